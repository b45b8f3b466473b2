#include "runtime/metrics.h"

#include "support/assert.h"

#include <algorithm>
#include <cmath>
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

EvaluationSummary summarize(const PredictionSet& predictions, double threshold, int64_t bootstrap,
                            double level, uint64_t seed) {
  EvaluationSummary out;
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
