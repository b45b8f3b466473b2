// Metrics against sklearn: ROC curve, ROC-AUC with ties, equal-error point, sensitivity/specificity,
// per-class and mean AUC for multi-label and multi-class, accuracy; the bootstrap interval against a numpy
// bootstrap (up to Monte-Carlo error) and its determinism. Progress output in both modes with a fake clock.
#include "runtime/metrics.h"
#include "runtime/progress.h"
#include "tests/runtime/test_support.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

namespace mhr::runtime {
namespace {

constexpr double kTol = 1e-12;

std::vector<double> readDoubles(std::istream& in, size_t n) {
  std::vector<double> v(n);
  for (double& x : v) {
    std::string s;
    in >> s;
    x = std::stod(s);
  }
  return v;
}

double readValue(std::istream& in) {
  std::string s;
  in >> s;
  return s == "nan" ? NAN : std::stod(s);
}

class MetricsVsSklearn : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    std::string failure;
    dir_ = test::cachedPythonFolder("metrics_reference.py", "", &failure);
    ASSERT_FALSE(dir_.empty()) << failure;
  }
  static std::string dir_;
};
std::string MetricsVsSklearn::dir_;

TEST_F(MetricsVsSklearn, BinaryCasesAndMultiLabelAndMultiClass) {
  std::ifstream in(dir_ + "/ref.txt");
  ASSERT_TRUE(in.good());
  std::string word;
  int binaryCases = 0, moreCases = 0;
  bool sawMultiLabel = false, sawMultiClass = false;
  std::vector<int> labels;
  std::vector<double> scores;
  std::string name;
  while (in >> word) {
    if (word == "case") {
      size_t n;
      in >> name >> n;
      labels.assign(n, 0);
      for (int& l : labels) in >> l;
      scores = readDoubles(in, n);
      ++binaryCases;
    } else if (word == "more") {
      // Average precision, Brier, ECE; at 0.5: ppv, npv, f1, balanced accuracy. Also through summarize() of
      // the binary PredictionSet the runtime makes (scores through float32 there: 1e-6).
      double ap = readValue(in), brier = readValue(in), ece = readValue(in);
      double ppv = readValue(in), npv = readValue(in), f1 = readValue(in), bal = readValue(in);
      auto expectSame = [&](double got, double want, double tol, const char* what) {
        if (std::isnan(want))
          EXPECT_TRUE(std::isnan(got)) << name << " " << what << " = " << got;
        else
          EXPECT_NEAR(got, want, tol) << name << " " << what;
      };
      std::optional<double> a = averagePrecision(labels, scores);
      expectSame(a ? *a : NAN, ap, kTol, "average precision");
      if (!std::isnan(brier)) {
        expectSame(brierScore(labels, scores), brier, kTol, "brier");
        expectSame(expectedCalibrationError(labels, scores), ece, kTol, "ece");
      }
      OperatingPoint o = operatingPointAt(labels, scores, 0.5);
      expectSame(ppvOf(o), ppv, kTol, "ppv");
      expectSame(npvOf(o), npv, kTol, "npv");
      expectSame(f1Of(o), f1, kTol, "f1");
      expectSame(balancedAccuracyOf(o), bal, kTol, "balanced accuracy");
      if (!std::isnan(brier)) {
        PredictionSet set;
        set.classes = {"benign", "malignant"};
        for (size_t i = 0; i < labels.size(); ++i) {
          set.labels.push_back({labels[i] ? 0.0f : 1.0f, labels[i] ? 1.0f : 0.0f});
          set.scores.push_back({static_cast<float>(1.0 - scores[i]), static_cast<float>(scores[i])});
        }
        EvaluationSummary sum = summarize(set, 0.5, 200, 0.95, 3);
        expectSame(sum.prAuc ? *sum.prAuc : NAN, ap, 1e-6, "summary average precision");
        expectSame(sum.brier, brier, 1e-6, "summary brier");
        // ECE bins at exact tenths, where a score's float32 rounding can change its bin (0.7f < 0.7): the
        // summary's ECE is that of the rounded scores (the reference was checked on the exact ones above).
        std::vector<double> rounded;
        for (double v : scores) rounded.push_back(static_cast<float>(v));
        expectSame(sum.ece, expectedCalibrationError(labels, rounded), 1e-12, "summary ece");
        expectSame(sum.balancedAccuracy, bal, 1e-6, "summary balanced accuracy");
        if (sum.prAucCi) {
          EXPECT_LE(sum.prAucCi->lower, *sum.prAuc + 1e-12) << name;
          EXPECT_GE(sum.prAucCi->upper, *sum.prAuc - 1e-12) << name;
        } else {
          EXPECT_TRUE(std::isnan(ap)) << name << ": no PR-AUC interval";
        }
      }
      ++moreCases;
    } else if (word == "auc") {
      double expected = readValue(in);
      auto auc = rocAuc(labels, scores);
      if (std::isnan(expected)) {
        EXPECT_FALSE(auc.has_value()) << name;
        EXPECT_TRUE(rocCurve(labels, scores).empty());
        EXPECT_FALSE(bootstrapAucInterval(labels, scores, 100, 0.95, 1).has_value());
      } else {
        ASSERT_TRUE(auc.has_value()) << name;
        EXPECT_NEAR(*auc, expected, kTol) << name;
      }
    } else if (word == "roc") {
      size_t k;
      in >> k;
      auto thr = readDoubles(in, k), fpr = readDoubles(in, k), tpr = readDoubles(in, k);
      auto roc = rocCurve(labels, scores);
      ASSERT_EQ(roc.size(), k) << name;
      for (size_t i = 0; i < k; ++i) {
        EXPECT_EQ(roc[i].threshold, thr[i]) << name << " point " << i;
        EXPECT_NEAR(roc[i].fpr, fpr[i], kTol) << name;
        EXPECT_NEAR(roc[i].tpr, tpr[i], kTol) << name;
      }
    } else if (word == "eer") {
      double t = readValue(in), sens = readValue(in), spec = readValue(in);
      auto p = equalErrorPoint(labels, scores);
      ASSERT_TRUE(p.has_value()) << name;
      EXPECT_EQ(p->threshold, t) << name;
      EXPECT_NEAR(p->sensitivity, sens, kTol) << name;
      EXPECT_NEAR(p->specificity, spec, kTol) << name;
    } else if (word == "at05") {
      double sens = readValue(in), spec = readValue(in);
      auto p = operatingPointAt(labels, scores, 0.5);
      EXPECT_NEAR(p.sensitivity, sens, kTol) << name;
      EXPECT_NEAR(p.specificity, spec, kTol) << name;
      EXPECT_EQ(p.tp + p.fp + p.tn + p.fn, static_cast<int64_t>(labels.size()));
    } else if (word == "ci") {
      double lo = readValue(in), hi = readValue(in);
      auto ci = bootstrapAucInterval(labels, scores, 4000, 0.95, 7);
      ASSERT_TRUE(ci.has_value()) << name;
      // Two independent 4000-draw bootstraps: their 2.5% / 97.5% quantiles agree to a few thousandths on
      // these sizes (the tiny "small" case is discrete and wider).
      double tol = labels.size() < 20 ? 0.1 : 0.012;
      EXPECT_NEAR(ci->lower, lo, tol) << name;
      EXPECT_NEAR(ci->upper, hi, tol) << name;
      EXPECT_LE(ci->lower, *rocAuc(labels, scores) + 1e-12) << name;
      EXPECT_GE(ci->upper, *rocAuc(labels, scores) - 1e-12) << name;
    } else if (word == "multilabel" || word == "multiclass") {
      bool multi = word == "multilabel";
      size_t n, c;
      in >> n >> c;
      PredictionSet set;
      set.multiLabel = multi;
      for (size_t k = 0; k < c; ++k) set.classes.push_back("c" + std::to_string(k));
      for (size_t i = 0; i < n; ++i) {
        std::vector<float> lab(c, 0.0f);
        if (multi) {
          for (float& l : lab) {
            int v;
            in >> v;
            l = static_cast<float>(v);
          }
        } else {
          int y;
          in >> y;
          lab[static_cast<size_t>(y)] = 1.0f;
        }
        auto s = readDoubles(in, c);
        set.labels.push_back(lab);
        set.scores.push_back(std::vector<float>(s.begin(), s.end()));
      }
      EvaluationSummary sum = summarize(set, 0.5, 200, 0.95, 3);
      ASSERT_EQ(sum.classes.size(), c);
      std::string key;
      while (in >> key) {
        if (key == "perclass") {
          for (size_t k = 0; k < c; ++k) {
            double e = readValue(in);
            if (std::isnan(e)) EXPECT_FALSE(sum.classes[k].auc.has_value());
            // The scores went through float32 in the PredictionSet, as they do in the runtime; sklearn saw
            // the same rounded values only up to float precision, so the comparison is not bit-exact.
            else
              EXPECT_NEAR(*sum.classes[k].auc, e, 1e-6) << k;
          }
        } else if (key == "mean") {
          EXPECT_NEAR(*sum.auc, readValue(in), 1e-6);
        } else if (key == "ap") {
          for (size_t k = 0; k < c; ++k) {
            double e = readValue(in);
            if (std::isnan(e))
              EXPECT_FALSE(sum.classes[k].prAuc.has_value()) << k;
            else
              EXPECT_NEAR(*sum.classes[k].prAuc, e, 1e-6) << "average precision of class " << k;
          }
          EXPECT_NEAR(*sum.prAuc, readValue(in), 1e-6) << "macro average precision";
          EXPECT_NEAR(*sum.prAucMicro, readValue(in), 1e-6) << "micro average precision";
          ASSERT_TRUE(sum.prAucCi.has_value());
          EXPECT_LT(sum.prAucCi->lower, *sum.prAuc);
          EXPECT_GT(sum.prAucCi->upper, *sum.prAuc);
        } else if (key == "micro_auc") {
          EXPECT_NEAR(*sum.aucMicro, readValue(in), 1e-6);
        } else if (key == "brier" || key == "ece") {
          double mean = 0;
          for (size_t k = 0; k < c; ++k) {
            double e = readValue(in);
            mean += e / static_cast<double>(c);
            EXPECT_NEAR(key == "brier" ? sum.classes[k].brier : sum.classes[k].ece, e, 1e-6) << key << k;
          }
          EXPECT_NEAR(key == "brier" ? sum.brier : sum.ece, mean, 1e-6) << key << " macro";
        } else if (key == "ppv" || key == "npv" || key == "f1" || key == "balanced") {
          // Per class, their mean over the defined ones, and the pooled counts' value.
          double (*of)(const OperatingPoint&) = key == "ppv"   ? ppvOf
                                                : key == "npv" ? npvOf
                                                : key == "f1"  ? f1Of
                                                               : balancedAccuracyOf;
          for (size_t k = 0; k < c; ++k) {
            double e = readValue(in), got = of(sum.classes[k].atThreshold);
            if (std::isnan(e))
              EXPECT_TRUE(std::isnan(got)) << key << k;
            else
              EXPECT_NEAR(got, e, 1e-12) << key << k;
          }
          double macro = readValue(in), micro = readValue(in);
          if (key == "balanced") {
            if (multi) {
              EXPECT_NEAR(sum.balancedAccuracy, macro, 1e-12);
            }
          } else {
            EXPECT_NEAR(macroAtThreshold(sum, of), macro, 1e-12) << key << " macro";
            EXPECT_NEAR(of(sum.micro), micro, 1e-12) << key << " micro";
          }
        } else if (key == "balanced_argmax") {
          EXPECT_NEAR(sum.balancedAccuracy, readValue(in), 1e-12);
        } else if (key == "accuracy") {
          EXPECT_NEAR(sum.accuracy, readValue(in), 1e-12);
          break;
        }
      }
      if (multi) {
        sawMultiLabel = true;
        ASSERT_EQ(sum.warnings.size(), 1u);
        EXPECT_NE(sum.warnings[0].find("class 'c4' has no positive samples"), std::string::npos);
      } else {
        sawMultiClass = true;
      }
      ASSERT_TRUE(sum.aucCi.has_value());
      EXPECT_LT(sum.aucCi->lower, *sum.auc);
      EXPECT_GT(sum.aucCi->upper, *sum.auc);
    } else {
      FAIL() << "unexpected word in reference file: " << word;
    }
  }
  EXPECT_EQ(binaryCases, 7);
  EXPECT_EQ(moreCases, 7);
  EXPECT_TRUE(sawMultiLabel);
  EXPECT_TRUE(sawMultiClass);
}

TEST(Metrics, BootstrapIsSeededAndNarrowsWithMoreData) {
  std::vector<int> y;
  std::vector<double> s;
  for (int i = 0; i < 2000; ++i) {
    y.push_back(i % 3 == 0);
    s.push_back(std::sin(i * 12.9898) * 0.5 + (i % 3 == 0 ? 0.4 : 0.0));
  }
  auto a = bootstrapAucInterval(y, s, 300, 0.95, 11);
  auto b = bootstrapAucInterval(y, s, 300, 0.95, 11);
  auto c = bootstrapAucInterval(y, s, 300, 0.95, 12);
  ASSERT_TRUE(a && b && c);
  EXPECT_EQ(a->lower, b->lower);
  EXPECT_EQ(a->upper, b->upper);
  EXPECT_NE(a->lower, c->lower);
  std::vector<int> ySmall(y.begin(), y.begin() + 200);
  std::vector<double> sSmall(s.begin(), s.begin() + 200);
  auto small = bootstrapAucInterval(ySmall, sSmall, 300, 0.95, 11);
  ASSERT_TRUE(small);
  EXPECT_GT(small->upper - small->lower, a->upper - a->lower);
}

TEST(Metrics, BinarySummaryUsesSecondClassAsPositive) {
  PredictionSet set;
  set.classes = {"benign", "malignant"};
  std::vector<std::pair<int, float>> rows = {{0, 0.1f}, {0, 0.6f}, {1, 0.7f},
                                             {1, 0.4f}, {1, 0.9f}, {0, 0.2f}};
  for (auto [y, p] : rows) {
    set.labels.push_back({y ? 0.0f : 1.0f, y ? 1.0f : 0.0f});
    set.scores.push_back({1.0f - p, p});
  }
  EvaluationSummary sum = summarize(set, 0.5, 0, 0.95, 1);
  ASSERT_EQ(sum.classes.size(), 1u);
  EXPECT_EQ(sum.classes[0].name, "malignant");
  EXPECT_NEAR(*sum.auc, 8.0 / 9.0, 1e-12);
  EXPECT_NEAR(sum.accuracy, 4.0 / 6.0, 1e-12);
  EXPECT_EQ(sum.classes[0].atThreshold.tp, 2);
  EXPECT_EQ(sum.classes[0].atThreshold.fp, 1);
  EXPECT_FALSE(sum.aucCi.has_value());
}

TEST(Progress, PlainLinesArePeriodicAndTerminalBarOverwrites) {
  double t = 0;
  std::ostringstream plain;
  {
    ProgressOptions o;
    o.terminal = false;
    o.lineSeconds = 10;
    o.out = &plain;
    o.clock = [&] { return t; };
    Progress p("train.hr epoch 1/2", 100, o);
    for (int i = 0; i < 100; ++i) {
      t += 0.5; // 2 steps per second: 50 s in all, a line every 10 s
      p.advance(1, "loss 0.5");
    }
    p.finish("loss 0.25");
  }
  std::string out = plain.str();
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 5);
  EXPECT_EQ(out.find('\r'), std::string::npos);
  EXPECT_NE(out.find("train.hr epoch 1/2 20/100 (20%)  2.00 it/s  ETA 0:40  loss 0.5\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("100/100 (100%)  2.00 it/s  0:50  loss 0.25\n"), std::string::npos) << out;

  t = 0;
  std::ostringstream bar;
  {
    ProgressOptions o;
    o.terminal = true;
    o.barWidth = 10;
    o.out = &bar;
    o.clock = [&] { return t; };
    Progress p("eval", 4, o);
    for (int i = 0; i < 4; ++i) {
      t += 1;
      p.advance();
    }
  } // the destructor finishes
  std::string b = bar.str();
  EXPECT_NE(b.find("\reval [##########] 4/4  1.00 it/s  0:04"), std::string::npos) << b;
  EXPECT_NE(b.find("\reval [##........] 1/4  1.00 it/s  ETA 0:03"), std::string::npos) << b;
  EXPECT_EQ(b.back(), '\n');
  EXPECT_EQ(Progress::formatDuration(3725), "1:02:05");
  EXPECT_EQ(Progress::formatDuration(NAN), "--:--");
}

} // namespace
} // namespace mhr::runtime
