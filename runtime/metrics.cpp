#include "runtime/metrics.h"

#include "support/assert.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <random>

namespace mhr::runtime {
namespace {

// Sample indices by decreasing score, and where each run of equal scores (one ROC threshold) ends.
struct SortedScores {
  std::vector<size_t> order;
  std::vector<size_t> groupEnds; // exclusive ends into `order`
};

SortedScores sortScores(const std::vector<double>& scores) {
  SortedScores s;
  s.order.resize(scores.size());
  std::iota(s.order.begin(), s.order.end(), 0);
  std::stable_sort(s.order.begin(), s.order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  for (size_t i = 0; i < s.order.size(); ++i)
    if (i + 1 == s.order.size() || scores[s.order[i + 1]] != scores[s.order[i]]) s.groupEnds.push_back(i + 1);
  return s;
}

// AUC by the trapezoid over the ROC points, in exact integer arithmetic: each negative counts the positives
// scored above it plus half of those tied with it. sklearn's trapezoid over the same points is the same
// number.
std::optional<double> aucSorted(const SortedScores& s, const std::vector<int>& labels,
                                const std::vector<int>* weights) {
  unsigned __int128 twiceNumerator = 0;
  uint64_t posBefore = 0, totalNeg = 0;
  size_t begin = 0;
  for (size_t end : s.groupEnds) {
    uint64_t pos = 0, neg = 0;
    for (size_t i = begin; i < end; ++i) {
      size_t k = s.order[i];
      uint64_t w = weights ? static_cast<uint64_t>((*weights)[k]) : 1;
      (labels[k] ? pos : neg) += w;
    }
    twiceNumerator += static_cast<unsigned __int128>(neg) * (2 * posBefore + pos);
    posBefore += pos;
    totalNeg += neg;
    begin = end;
  }
  if (posBefore == 0 || totalNeg == 0) return std::nullopt;
  return static_cast<double>(twiceNumerator) /
         (2.0 * static_cast<double>(posBefore) * static_cast<double>(totalNeg));
}

// Average precision over the sorted scores: at each distinct threshold (a run of ties) precision times the
// recall it adds, as sklearn's precision_recall_curve + average_precision_score step sum.
std::optional<double> apSorted(const SortedScores& s, const std::vector<int>& labels,
                               const std::vector<int>* weights) {
  uint64_t totalPos = 0;
  for (size_t k = 0; k < labels.size(); ++k)
    if (labels[k]) totalPos += weights ? static_cast<uint64_t>((*weights)[k]) : 1;
  if (totalPos == 0) return std::nullopt;
  uint64_t tp = 0, fp = 0;
  double sum = 0;
  size_t begin = 0;
  for (size_t end : s.groupEnds) {
    uint64_t pos = 0;
    for (size_t i = begin; i < end; ++i) {
      size_t k = s.order[i];
      uint64_t w = weights ? static_cast<uint64_t>((*weights)[k]) : 1;
      (labels[k] ? pos : fp) += w;
    }
    tp += pos;
    if (pos > 0 && tp + fp > 0)
      sum += static_cast<double>(pos) / static_cast<double>(totalPos) * static_cast<double>(tp) /
             static_cast<double>(tp + fp);
    begin = end;
  }
  return sum;
}

double quantile(std::vector<double> values, double q) {
  MHR_ASSERT(!values.empty(), "quantile of nothing");
  std::sort(values.begin(), values.end());
  double pos = q * static_cast<double>(values.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos));
  size_t hi = std::min(lo + 1, values.size() - 1);
  double frac = pos - static_cast<double>(lo);
  return values[lo] + (values[hi] - values[lo]) * frac;
}

// Counts of each sample in one resample of n draws with replacement.
void drawCounts(std::mt19937_64& rng, size_t n, std::vector<int>& counts) {
  std::fill(counts.begin(), counts.end(), 0);
  for (size_t i = 0; i < n; ++i) ++counts[rng() % n];
}

void checkSizes(const std::vector<int>& labels, const std::vector<double>& scores) {
  MHR_ASSERT(labels.size() == scores.size(), "labels and scores differ in length");
}

} // namespace

std::vector<RocPoint> rocCurve(const std::vector<int>& labels, const std::vector<double>& scores) {
  checkSizes(labels, scores);
  SortedScores s = sortScores(scores);
  int64_t positives = std::count_if(labels.begin(), labels.end(), [](int l) { return l != 0; });
  int64_t negatives = static_cast<int64_t>(labels.size()) - positives;
  std::vector<RocPoint> out;
  if (positives == 0 || negatives == 0) return out;
  int64_t tp = 0, fp = 0;
  size_t begin = 0;
  for (size_t end : s.groupEnds) {
    for (size_t i = begin; i < end; ++i) (labels[s.order[i]] ? tp : fp) += 1;
    out.push_back(RocPoint{scores[s.order[begin]], static_cast<double>(fp) / static_cast<double>(negatives),
                           static_cast<double>(tp) / static_cast<double>(positives)});
    begin = end;
  }
  return out;
}

std::optional<double> rocAuc(const std::vector<int>& labels, const std::vector<double>& scores,
                             const std::vector<int>* weights) {
  checkSizes(labels, scores);
  return aucSorted(sortScores(scores), labels, weights);
}

OperatingPoint operatingPointAt(const std::vector<int>& labels, const std::vector<double>& scores,
                                double threshold) {
  checkSizes(labels, scores);
  OperatingPoint p;
  p.threshold = threshold;
  for (size_t i = 0; i < labels.size(); ++i) {
    bool predicted = scores[i] >= threshold;
    if (labels[i])
      (predicted ? p.tp : p.fn) += 1;
    else
      (predicted ? p.fp : p.tn) += 1;
  }
  p.sensitivity = p.tp + p.fn ? static_cast<double>(p.tp) / static_cast<double>(p.tp + p.fn) : NAN;
  p.specificity = p.tn + p.fp ? static_cast<double>(p.tn) / static_cast<double>(p.tn + p.fp) : NAN;
  return p;
}

std::optional<OperatingPoint> equalErrorPoint(const std::vector<int>& labels,
                                              const std::vector<double>& scores) {
  std::vector<RocPoint> roc = rocCurve(labels, scores);
  if (roc.empty()) return std::nullopt;
  size_t best = 0;
  double bestGap = INFINITY;
  for (size_t i = 0; i < roc.size(); ++i) {
    double gap = std::fabs(roc[i].fpr - (1.0 - roc[i].tpr));
    if (gap < bestGap) {
      bestGap = gap;
      best = i;
    }
  }
  return operatingPointAt(labels, scores, roc[best].threshold);
}

std::optional<Interval> bootstrapAucInterval(const std::vector<int>& labels,
                                             const std::vector<double>& scores, int64_t resamples,
                                             double level, uint64_t seed) {
  checkSizes(labels, scores);
  SortedScores s = sortScores(scores);
  if (!aucSorted(s, labels, nullptr) || resamples <= 0) return std::nullopt;
  std::mt19937_64 rng(seed);
  std::vector<int> counts(labels.size());
  std::vector<double> aucs;
  for (int64_t attempt = 0; attempt < 10 * resamples && static_cast<int64_t>(aucs.size()) < resamples;
       ++attempt) {
    drawCounts(rng, labels.size(), counts);
    if (auto a = aucSorted(s, labels, &counts)) aucs.push_back(*a);
  }
  if (aucs.empty()) return std::nullopt;
  return Interval{quantile(aucs, (1.0 - level) / 2.0), quantile(aucs, (1.0 + level) / 2.0),
                  static_cast<int64_t>(aucs.size())};
}

std::optional<Interval> bootstrapMeanAucInterval(const std::vector<std::vector<int>>& labels,
                                                 const std::vector<std::vector<double>>& scores,
                                                 int64_t resamples, double level, uint64_t seed) {
  MHR_ASSERT(labels.size() == scores.size(), "one label and one score vector per class");
  std::vector<SortedScores> sorted;
  std::vector<size_t> defined; // classes whose AUC exists on the full set
  for (size_t c = 0; c < labels.size(); ++c) {
    checkSizes(labels[c], scores[c]);
    sorted.push_back(sortScores(scores[c]));
    if (aucSorted(sorted.back(), labels[c], nullptr)) defined.push_back(c);
  }
  if (defined.empty() || resamples <= 0) return std::nullopt;
  size_t n = labels[defined[0]].size();
  std::mt19937_64 rng(seed);
  std::vector<int> counts(n);
  std::vector<double> means;
  for (int64_t attempt = 0; attempt < 10 * resamples && static_cast<int64_t>(means.size()) < resamples;
       ++attempt) {
    drawCounts(rng, n, counts);
    double sum = 0;
    bool complete = true;
    for (size_t c : defined) {
      std::optional<double> a = aucSorted(sorted[c], labels[c], &counts);
      if (!a) {
        complete = false;
        break;
      }
      sum += *a;
    }
    if (complete) means.push_back(sum / static_cast<double>(defined.size()));
  }
  if (means.empty()) return std::nullopt;
  return Interval{quantile(means, (1.0 - level) / 2.0), quantile(means, (1.0 + level) / 2.0),
                  static_cast<int64_t>(means.size())};
}

std::optional<double> averagePrecision(const std::vector<int>& labels, const std::vector<double>& scores,
                                       const std::vector<int>* weights) {
  checkSizes(labels, scores);
  return apSorted(sortScores(scores), labels, weights);
}

double brierScore(const std::vector<int>& labels, const std::vector<double>& scores) {
  checkSizes(labels, scores);
  if (labels.empty()) return NAN;
  double sum = 0;
  for (size_t i = 0; i < labels.size(); ++i) sum += (scores[i] - labels[i]) * (scores[i] - labels[i]);
  return sum / static_cast<double>(labels.size());
}

double expectedCalibrationError(const std::vector<int>& labels, const std::vector<double>& scores) {
  checkSizes(labels, scores);
  if (labels.empty()) return NAN;
  constexpr int kBins = 10;
  double count[kBins] = {}, label[kBins] = {}, score[kBins] = {};
  for (size_t i = 0; i < labels.size(); ++i) {
    int b = std::clamp(static_cast<int>(std::floor(scores[i] * kBins)), 0, kBins - 1);
    count[b] += 1;
    label[b] += labels[i];
    score[b] += scores[i];
  }
  double ece = 0;
  for (int b = 0; b < kBins; ++b)
    if (count[b] > 0) ece += std::fabs(label[b] - score[b]) / static_cast<double>(labels.size());
  return ece;
}

std::optional<Interval>
bootstrapInterval(size_t n, int64_t resamples, double level, uint64_t seed,
                  const std::function<std::optional<double>(const std::vector<int>* counts)>& statistic) {
  if (n == 0 || resamples <= 0 || !statistic(nullptr)) return std::nullopt;
  std::mt19937_64 rng(seed);
  std::vector<int> counts(n);
  std::vector<double> values;
  for (int64_t attempt = 0; attempt < 10 * resamples && static_cast<int64_t>(values.size()) < resamples;
       ++attempt) {
    drawCounts(rng, n, counts);
    if (auto v = statistic(&counts)) values.push_back(*v);
  }
  if (values.empty()) return std::nullopt;
  return Interval{quantile(values, (1.0 - level) / 2.0), quantile(values, (1.0 + level) / 2.0),
                  static_cast<int64_t>(values.size())};
}

namespace {
double ratio(int64_t num, int64_t den) {
  return den > 0 ? static_cast<double>(num) / static_cast<double>(den) : NAN;
}
} // namespace

double ppvOf(const OperatingPoint& o) {
  return ratio(o.tp, o.tp + o.fp);
}
double npvOf(const OperatingPoint& o) {
  return ratio(o.tn, o.tn + o.fn);
}
double f1Of(const OperatingPoint& o) {
  return ratio(2 * o.tp, 2 * o.tp + o.fp + o.fn);
}
double balancedAccuracyOf(const OperatingPoint& o) {
  return (o.sensitivity + o.specificity) / 2.0;
}

double macroAtThreshold(const EvaluationSummary& summary, double (*metric)(const OperatingPoint&)) {
  double sum = 0;
  int defined = 0;
  for (const ClassSummary& c : summary.classes) {
    double v = metric(c.atThreshold);
    if (!std::isnan(v)) {
      sum += v;
      ++defined;
    }
  }
  return defined > 0 ? sum / defined : NAN;
}

EvaluationSummary summarize(const PredictionSet& predictions, double threshold, int64_t bootstrap,
                            double level, uint64_t seed) {
  EvaluationSummary out;
  out.threshold = threshold;
  const size_t n = predictions.scores.size();
  const size_t classes = predictions.classes.size();
  MHR_ASSERT(predictions.labels.size() == n, "one label row per sample");
  for (size_t s = 0; s < n; ++s)
    MHR_ASSERT(predictions.scores[s].size() == classes && predictions.labels[s].size() == classes,
               "one score and label per class");
  if (n == 0) {
    out.accuracy = NAN;
    out.warnings.push_back("the split is empty: no metrics");
    return out;
  }
  const bool binary = !predictions.multiLabel && classes == 2;

  // Columns: the classes evaluated one-vs-rest (binary: only the positive class).
  std::vector<size_t> columns;
  if (binary)
    columns = {1};
  else
    for (size_t c = 0; c < classes; ++c) columns.push_back(c);
  std::vector<std::vector<int>> labelCols;
  std::vector<std::vector<double>> scoreCols;
  for (size_t c : columns) {
    std::vector<int> l(n);
    std::vector<double> sc(n);
    for (size_t s = 0; s < n; ++s) {
      l[s] = predictions.labels[s][c] > 0.5f ? 1 : 0;
      sc[s] = predictions.scores[s][c];
    }
    ClassSummary cs;
    cs.name = predictions.classes[c];
    cs.positives = std::count(l.begin(), l.end(), 1);
    cs.negatives = static_cast<int64_t>(n) - cs.positives;
    cs.auc = rocAuc(l, sc);
    cs.prAuc = averagePrecision(l, sc);
    cs.brier = brierScore(l, sc);
    cs.ece = expectedCalibrationError(l, sc);
    cs.atThreshold = operatingPointAt(l, sc, threshold);
    cs.equalError = equalErrorPoint(l, sc);
    if (!cs.auc)
      out.warnings.push_back(
          "class '" + cs.name + "' has " + (cs.positives == 0 ? "no positive" : "no negative") +
          " samples in this split: its AUC is undefined" + (binary ? "" : " and left out of the mean"));
    out.classes.push_back(cs);
    labelCols.push_back(std::move(l));
    scoreCols.push_back(std::move(sc));
  }

  if (binary) {
    out.auc = out.classes[0].auc;
    if (bootstrap > 0) out.aucCi = bootstrapAucInterval(labelCols[0], scoreCols[0], bootstrap, level, seed);
  } else {
    double sum = 0;
    int defined = 0;
    for (const ClassSummary& cs : out.classes)
      if (cs.auc) {
        sum += *cs.auc;
        ++defined;
      }
    if (defined > 0) out.auc = sum / defined;
    if (bootstrap > 0) out.aucCi = bootstrapMeanAucInterval(labelCols, scoreCols, bootstrap, level, seed);
  }

  // Average precision, Brier score and calibration error: binary as they are, otherwise macro means (over
  // the classes where average precision is defined), with the pooled (micro) AUC and AP beside them.
  auto meanOf = [&](auto get) {
    double sum = 0;
    int defined = 0;
    for (const ClassSummary& cs : out.classes) {
      std::optional<double> v = get(cs);
      if (v && !std::isnan(*v)) {
        sum += *v;
        ++defined;
      }
    }
    return defined > 0 ? sum / defined : NAN;
  };
  auto optional = [](double v) { return std::isnan(v) ? std::nullopt : std::optional<double>(v); };
  if (binary) {
    out.prAuc = out.classes[0].prAuc;
    out.brier = out.classes[0].brier;
    out.ece = out.classes[0].ece;
    out.balancedAccuracy = balancedAccuracyOf(out.classes[0].atThreshold);
    if (bootstrap > 0) {
      SortedScores sorted = sortScores(scoreCols[0]);
      out.prAucCi = bootstrapInterval(n, bootstrap, level, seed, [&](const std::vector<int>* counts) {
        return apSorted(sorted, labelCols[0], counts);
      });
    }
  } else {
    out.prAuc = optional(meanOf([](const ClassSummary& cs) { return cs.prAuc; }));
    out.brier = meanOf([](const ClassSummary& cs) { return std::optional<double>(cs.brier); });
    out.ece = meanOf([](const ClassSummary& cs) { return std::optional<double>(cs.ece); });
    std::vector<int> allLabels;
    std::vector<double> allScores;
    for (size_t k = 0; k < labelCols.size(); ++k) {
      allLabels.insert(allLabels.end(), labelCols[k].begin(), labelCols[k].end());
      allScores.insert(allScores.end(), scoreCols[k].begin(), scoreCols[k].end());
    }
    out.aucMicro = rocAuc(allLabels, allScores);
    out.prAucMicro = averagePrecision(allLabels, allScores);
    out.micro = operatingPointAt(allLabels, allScores, threshold);
    if (predictions.multiLabel) {
      out.balancedAccuracy = meanOf(
          [](const ClassSummary& cs) { return std::optional<double>(balancedAccuracyOf(cs.atThreshold)); });
    } else {
      // sklearn's balanced_accuracy_score of the argmax: the mean recall over the classes present.
      std::vector<int64_t> hits(columns.size()), present(columns.size());
      for (size_t s = 0; s < n; ++s) {
        const auto& sc = predictions.scores[s];
        const auto& lb = predictions.labels[s];
        size_t truth = std::max_element(lb.begin(), lb.end()) - lb.begin();
        size_t guess = std::max_element(sc.begin(), sc.end()) - sc.begin();
        ++present[truth];
        hits[truth] += guess == truth;
      }
      double sum = 0;
      int classesPresent = 0;
      for (size_t c = 0; c < columns.size(); ++c)
        if (present[c] > 0) {
          sum += static_cast<double>(hits[c]) / static_cast<double>(present[c]);
          ++classesPresent;
        }
      out.balancedAccuracy = classesPresent > 0 ? sum / classesPresent : NAN;
    }
    if (bootstrap > 0) {
      std::vector<SortedScores> sorted;
      std::vector<size_t> defined;
      for (size_t k = 0; k < labelCols.size(); ++k) {
        sorted.push_back(sortScores(scoreCols[k]));
        if (out.classes[k].prAuc) defined.push_back(k);
      }
      out.prAucCi = bootstrapInterval(n, bootstrap, level, seed, [&](const std::vector<int>* counts) {
        double sum = 0;
        for (size_t k : defined) {
          std::optional<double> a = apSorted(sorted[k], labelCols[k], counts);
          if (!a) return std::optional<double>(); // a defined class lost its positives: redraw
          sum += *a;
        }
        return defined.empty() ? std::optional<double>() : std::optional<double>(sum / defined.size());
      });
    }
  }

  int64_t correct = 0, total = 0;
  if (binary) {
    for (size_t s = 0; s < n; ++s) correct += (scoreCols[0][s] >= threshold) == (labelCols[0][s] == 1);
    total = static_cast<int64_t>(n);
  } else if (!predictions.multiLabel) {
    for (size_t s = 0; s < n; ++s) {
      const auto& sc = predictions.scores[s];
      const auto& lb = predictions.labels[s];
      correct += std::max_element(sc.begin(), sc.end()) - sc.begin() ==
                 std::max_element(lb.begin(), lb.end()) - lb.begin();
    }
    total = static_cast<int64_t>(n);
  } else {
    for (size_t k = 0; k < labelCols.size(); ++k)
      for (size_t s = 0; s < n; ++s) correct += (scoreCols[k][s] >= threshold) == (labelCols[k][s] == 1);
    total = static_cast<int64_t>(n * labelCols.size());
  }
  out.accuracy = static_cast<double>(correct) / static_cast<double>(total);
  return out;
}

} // namespace mhr::runtime
