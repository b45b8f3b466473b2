// runtime/metrics.h — evaluation metrics, without LibTorch. In: per-sample labels (0/1) and scores. Out: ROC
// curve and ROC-AUC computed as sklearn's roc_curve/roc_auc_score do (tied scores form one threshold, so a
// tie between a positive and a negative counts one half), sensitivity/specificity at a threshold and at the
// equal-error point, a seeded percentile-bootstrap confidence interval for the AUC, and the per-class and
// mean summary of a PredictionSet (single-label or multi-label) that evaluation logs to the tracker.
#pragma once

#include "runtime/metrics_sink.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mhr::runtime {

struct RocPoint {
  double threshold = 0; // samples with score >= threshold are called positive
  double fpr = 0;
  double tpr = 0;
};

// sklearn.metrics.roc_curve(labels, scores, drop_intermediate=False) without its artificial first point: one
// point per distinct score, thresholds decreasing. Empty when labels hold a single class.
std::vector<RocPoint> rocCurve(const std::vector<int>& labels, const std::vector<double>& scores);

// sklearn.metrics.roc_auc_score for binary labels; nullopt when only one class is present (sklearn raises).
// `weights` (optional, one per sample) counts a sample several times: what a bootstrap resample needs.
std::optional<double> rocAuc(const std::vector<int>& labels, const std::vector<double>& scores,
                             const std::vector<int>* weights = nullptr);

struct OperatingPoint {
  double threshold = 0;
  double sensitivity = 0; // TP / (TP + FN); NaN without positives
  double specificity = 0; // TN / (TN + FP); NaN without negatives
  int64_t tp = 0, fp = 0, tn = 0, fn = 0;
};

OperatingPoint operatingPointAt(const std::vector<int>& labels, const std::vector<double>& scores,
                                double threshold);
// The ROC point (distinct score as threshold) where |FPR - FNR| is smallest; ties go to the higher threshold.
std::optional<OperatingPoint> equalErrorPoint(const std::vector<int>& labels,
                                              const std::vector<double>& scores);

struct Interval {
  double lower = 0;
  double upper = 0;
  int64_t resamples = 0; // resamples that had both classes (the others are redrawn)
};

// Percentile bootstrap: `resamples` draws of n samples with replacement from a std::mt19937_64 seeded with
// `seed` (deterministic on every platform), AUC of each, the (1-level)/2 and (1+level)/2 quantiles with
// numpy's linear interpolation. A draw holding one class only is redrawn (at most 10x resamples attempts).
// nullopt when the AUC itself is undefined.
std::optional<Interval> bootstrapAucInterval(const std::vector<int>& labels,
                                             const std::vector<double>& scores, int64_t resamples,
                                             double level, uint64_t seed);

// The same for the mean over classes of per-class AUCs (multi-label; a draw where any class with a defined
// AUC becomes one-class is redrawn).
std::optional<Interval> bootstrapMeanAucInterval(const std::vector<std::vector<int>>& labels,
                                                 const std::vector<std::vector<double>>& scores,
                                                 int64_t resamples, double level, uint64_t seed);

struct ClassSummary {
  std::string name;
  int64_t positives = 0, negatives = 0;
  std::optional<double> auc;
  OperatingPoint atThreshold;
  std::optional<OperatingPoint> equalError;
};

struct EvaluationSummary {
  // Single-label with two classes: one entry, the second class as the positive one. Single-label with more
  // classes and multi-label: one entry per class (one-vs-rest).
  std::vector<ClassSummary> classes;
  std::optional<double> auc; // binary: that class's AUC; otherwise the mean over classes with an AUC
  std::optional<Interval> aucCi;
  double accuracy = 0; // single-label: argmax (binary: P(positive) >= threshold); multi-label: mean
                       // per-label accuracy at the threshold
  std::vector<std::string> warnings; // e.g. a class with no positives in the split (its AUC is undefined)
};

// `bootstrap` = 0 turns the interval off.
EvaluationSummary summarize(const PredictionSet& predictions, double threshold, int64_t bootstrap,
                            double level, uint64_t seed);

} // namespace mhr::runtime
