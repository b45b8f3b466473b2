// runtime/metrics.h — evaluation metrics, without LibTorch. In: per-sample labels (0/1) and scores. Out: ROC
// curve and ROC-AUC computed as sklearn's roc_curve/roc_auc_score do, average precision, Brier score and
// calibration error (tied scores form one threshold, so a
// tie between a positive and a negative counts one half), sensitivity/specificity at a threshold and at the
// equal-error point, a seeded percentile-bootstrap confidence interval for the AUC, and the per-class and
// mean summary of a PredictionSet (single-label or multi-label) that evaluation logs to the tracker.
#pragma once

#include "runtime/metrics_sink.h"

#include <cstdint>
#include <functional>
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

// sklearn.metrics.average_precision_score for binary labels (the PR-AUC as the step sum over distinct
// thresholds, sum_n (R_n - R_{n-1}) P_n, tied scores one threshold); nullopt without positives.
std::optional<double> averagePrecision(const std::vector<int>& labels, const std::vector<double>& scores,
                                       const std::vector<int>* weights = nullptr);

// sklearn.metrics.brier_score_loss: mean of (score - label)^2, scores as probabilities of the positive.
double brierScore(const std::vector<int>& labels, const std::vector<double>& scores);

// Expected calibration error of probabilities of the positive: 10 equal-width bins [k/10, (k+1)/10) (a
// score of 1 in the last), sum over non-empty bins of |mean label - mean score| weighted by the bin's share
// of the samples. sklearn has no ECE; its calibration_curve gives the per-bin means that this weights.
double expectedCalibrationError(const std::vector<int>& labels, const std::vector<double>& scores);

// Percentile bootstrap of any statistic of weighted samples (`statistic(counts)`; nullopt = redraw), drawn
// as bootstrapAucInterval draws. nullopt when the statistic is undefined on the full set.
std::optional<Interval>
bootstrapInterval(size_t n, int64_t resamples, double level, uint64_t seed,
                  const std::function<std::optional<double>(const std::vector<int>* counts)>& statistic);

// Ratios of confusion counts; NaN where the denominator is 0 (undefined: sklearn returns 0 there with a
// warning, which would read as a measured zero).
double ppvOf(const OperatingPoint& o);
double npvOf(const OperatingPoint& o);
double f1Of(const OperatingPoint& o);
double balancedAccuracyOf(const OperatingPoint& o); // (sensitivity + specificity) / 2

struct ClassSummary {
  std::string name;
  int64_t positives = 0, negatives = 0;
  std::optional<double> auc;
  std::optional<double> prAuc; // average precision; undefined without positives
  double brier = 0;
  double ece = 0;
  OperatingPoint atThreshold;
  std::optional<OperatingPoint> equalError;
};

struct EvaluationSummary {
  double threshold = 0.5; // the operating point the confusion-based metrics used
  // Single-label with two classes: one entry, the second class as the positive one. Single-label with more
  // classes and multi-label: one entry per class (one-vs-rest).
  std::vector<ClassSummary> classes;
  std::optional<double> auc; // binary: that class's AUC; otherwise the mean over classes with an AUC
  std::optional<Interval> aucCi;
  std::optional<double> prAuc; // binary: that class's average precision; otherwise the macro mean
  std::optional<Interval> prAucCi;
  // Not binary: the pooled (micro) AUC and average precision over every (sample, class) cell, and the
  // confusion counts at the threshold summed over classes.
  std::optional<double> aucMicro, prAucMicro;
  OperatingPoint micro;
  double balancedAccuracy = 0; // binary: (sens + spec) / 2 at the threshold; single-label: mean recall of
                               // the argmax over classes present; multi-label: macro mean over labels
  double brier = 0;            // binary: of P(positive); otherwise the macro mean over classes
  double ece = 0;              // likewise
  double accuracy = 0;         // single-label: argmax (binary: P(positive) >= threshold); multi-label: mean
                               // per-label accuracy at the threshold
  std::vector<std::string> warnings; // e.g. a class with no positives in the split (its AUC is undefined)
};

// The macro mean over classes of a metric at the operating point (ppvOf, f1Of, ...): the mean over the
// classes where it is defined, NaN where it is defined for none (sklearn's zero_division=nan convention).
double macroAtThreshold(const EvaluationSummary& summary, double (*metric)(const OperatingPoint&));

// `bootstrap` = 0 turns the interval off.
EvaluationSummary summarize(const PredictionSet& predictions, double threshold, int64_t bootstrap,
                            double level, uint64_t seed);

} // namespace mhr::runtime
