// tracker/roc.h — ROC curves, AUC with a DeLong confidence interval, and confusion counts, for reports. In:
// per-sample 0/1 labels and scores of one class; out: the curve's (FPR, TPR) corners, the AUC (ties count one
// half, as in the Mann-Whitney statistic and sklearn's roc_auc_score), its DeLong variance and 95% interval.
// DeLong uses the midrank formulation (Sun & Xu 2014): O(n log n).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mhr::tracker {

struct RocCurve {
  std::vector<double> fpr, tpr; // from (0, 0) to (1, 1), one corner per distinct score
  double auc = 0;               // NaN when a class has no positive or no negative sample
  double variance = 0;          // DeLong
  double ciLow = 0, ciHigh = 0; // 95%: auc -+ 1.96 sqrt(variance), clipped to [0, 1]
  int64_t positives = 0, negatives = 0;
};

// Labels >= 0.5 count as positive. NaN scores are an error the caller reports (they never reach here).
RocCurve computeRoc(const std::vector<float>& labels, const std::vector<float>& scores);

struct BinaryCounts {
  int64_t tp = 0, fp = 0, fn = 0, tn = 0;
  double sensitivity() const;
  double specificity() const;
};
BinaryCounts countAtThreshold(const std::vector<float>& labels, const std::vector<float>& scores,
                              double threshold);

} // namespace mhr::tracker
