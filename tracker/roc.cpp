// tracker/roc.cpp — see roc.h.
#include "tracker/roc.h"

#include "support/assert.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mhr::tracker {

namespace {

// Midranks (1-based; tied values share the mean of their ranks).
std::vector<double> midranks(const std::vector<double>& values) {
  const size_t n = values.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(n);
  size_t i = 0;
  while (i < n) {
    size_t j = i;
    while (j + 1 < n && values[order[j + 1]] == values[order[i]]) ++j;
    double rank = 0.5 * double(i + j) + 1.0;
    for (size_t k = i; k <= j; ++k) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

double sampleVariance(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  double mean = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
  double sum = 0;
  for (double x : v) sum += (x - mean) * (x - mean);
  return sum / double(v.size() - 1);
}

} // namespace

RocCurve computeRoc(const std::vector<float>& labels, const std::vector<float>& scores) {
  MHR_ASSERT(labels.size() == scores.size(), "ROC: labels and scores differ in length");
  RocCurve roc;
  std::vector<double> pos, neg;
  for (size_t i = 0; i < labels.size(); ++i) {
    (labels[i] >= 0.5f ? pos : neg).push_back(scores[i]);
  }
  roc.positives = static_cast<int64_t>(pos.size());
  roc.negatives = static_cast<int64_t>(neg.size());

  // The curve: walk the scores from high to low, one corner per distinct score.
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  roc.fpr.push_back(0);
  roc.tpr.push_back(0);
  double tp = 0, fp = 0;
  for (size_t k = 0; k < order.size();) {
    size_t j = k;
    while (j < order.size() && scores[order[j]] == scores[order[k]]) {
      (labels[order[j]] >= 0.5f ? tp : fp) += 1;
      ++j;
    }
    roc.fpr.push_back(neg.empty() ? 0 : fp / double(neg.size()));
    roc.tpr.push_back(pos.empty() ? 0 : tp / double(pos.size()));
    k = j;
  }

  if (pos.empty() || neg.empty()) {
    roc.auc = roc.variance = roc.ciLow = roc.ciHigh = NAN;
    return roc;
  }
  const double m = double(pos.size()), n = double(neg.size());
  std::vector<double> all = pos;
  all.insert(all.end(), neg.begin(), neg.end());
  std::vector<double> tz = midranks(all), tx = midranks(pos), ty = midranks(neg);
  double sumPos = 0;
  for (size_t i = 0; i < pos.size(); ++i) sumPos += tz[i];
  roc.auc = (sumPos - m * (m + 1) / 2) / (m * n);
  std::vector<double> v10(pos.size()), v01(neg.size());
  for (size_t i = 0; i < pos.size(); ++i) v10[i] = (tz[i] - tx[i]) / n;
  for (size_t j = 0; j < neg.size(); ++j) v01[j] = 1.0 - (tz[pos.size() + j] - ty[j]) / m;
  roc.variance = sampleVariance(v10) / m + sampleVariance(v01) / n;
  double half = 1.959963984540054 * std::sqrt(std::max(0.0, roc.variance));
  roc.ciLow = std::max(0.0, roc.auc - half);
  roc.ciHigh = std::min(1.0, roc.auc + half);
  return roc;
}

double BinaryCounts::sensitivity() const {
  return tp + fn ? double(tp) / double(tp + fn) : NAN;
}
double BinaryCounts::specificity() const {
  return tn + fp ? double(tn) / double(tn + fp) : NAN;
}

BinaryCounts countAtThreshold(const std::vector<float>& labels, const std::vector<float>& scores,
                              double threshold) {
  BinaryCounts c;
  for (size_t i = 0; i < labels.size(); ++i) {
    bool actual = labels[i] >= 0.5f, predicted = scores[i] >= threshold;
    if (actual && predicted) ++c.tp;
    if (!actual && predicted) ++c.fp;
    if (actual && !predicted) ++c.fn;
    if (!actual && !predicted) ++c.tn;
  }
  return c;
}

} // namespace mhr::tracker
