#include "compiler/plan/enums.h"

#include "support/assert.h"

namespace mhr::plan {

namespace {
// One table per enum: the enumerators in order with their spelling.
template <typename E, size_t N> const char* nameIn(const char* const (&names)[N], E e) {
  const size_t i = static_cast<size_t>(e);
  MHR_ASSERT(i < N, "enum value out of range");
  return names[i];
}
template <typename E, size_t N>
std::optional<E> parseIn(const char* const (&names)[N], std::string_view text) {
  for (size_t i = 0; i < N; ++i)
    if (text == names[i]) return static_cast<E>(i);
  return std::nullopt;
}
const char* const kOptimizerKindNames[] = {"sgd", "adam", "adamw"};
const char* const kScheduleKindNames[] = {"constant", "step", "cosine", "onecycle"};
const char* const kPrecisionNames[] = {"fp32", "bf16", "fp16"};
const char* const kCheckpointingNames[] = {"off", "auto", "all"};
const char* const kLossKindNames[] = {"auto", "cross_entropy", "bce"};
const char* const kSweepModeNames[] = {"none", "grid", "random"};
} // namespace

const char* name(OptimizerKind v) {
  return nameIn(kOptimizerKindNames, v);
}
const char* name(ScheduleKind v) {
  return nameIn(kScheduleKindNames, v);
}
const char* name(Precision v) {
  return nameIn(kPrecisionNames, v);
}
const char* name(Checkpointing v) {
  return nameIn(kCheckpointingNames, v);
}
const char* name(LossKind v) {
  return nameIn(kLossKindNames, v);
}
const char* name(SweepMode v) {
  return nameIn(kSweepModeNames, v);
}
std::optional<OptimizerKind> parseOptimizerKind(std::string_view text) {
  return parseIn<OptimizerKind>(kOptimizerKindNames, text);
}
std::optional<ScheduleKind> parseScheduleKind(std::string_view text) {
  return parseIn<ScheduleKind>(kScheduleKindNames, text);
}
std::optional<Precision> parsePrecision(std::string_view text) {
  return parseIn<Precision>(kPrecisionNames, text);
}
std::optional<Checkpointing> parseCheckpointing(std::string_view text) {
  return parseIn<Checkpointing>(kCheckpointingNames, text);
}
std::optional<LossKind> parseLossKind(std::string_view text) {
  return parseIn<LossKind>(kLossKindNames, text);
}
std::optional<SweepMode> parseSweepMode(std::string_view text) {
  return parseIn<SweepMode>(kSweepModeNames, text);
}

} // namespace mhr::plan
