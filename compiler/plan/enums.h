// compiler/plan/enums.h — the closed choices of a plan as enums: optimizer, schedule, precision, activation
// checkpointing, loss and sweep mode. In: the spelling of the language ("adamw", "onecycle", "bf16", ...),
// which the compiler's schema has already checked. Out: the enum; and back, the spelling the plan printer,
// the stage hashes and the tracker's params use (so those texts are the same as when these were strings).
#pragma once

#include <optional>
#include <string_view>

namespace mhr::plan {

enum class OptimizerKind { Sgd, Adam, AdamW };
enum class ScheduleKind { Constant, Step, Cosine, OneCycle };
enum class Precision { Fp32, Bf16, Fp16 };       // autocast on CUDA; fp32 on CPU
enum class Checkpointing { Off, Auto, All };     // activation checkpointing
enum class LossKind { Auto, CrossEntropy, Bce }; // auto: cross entropy single-label, BCE multi-label
enum class SweepMode { None, Grid, Random };

const char* name(OptimizerKind k); // "sgd" | "adam" | "adamw"
const char* name(ScheduleKind k);  // "constant" | "step" | "cosine" | "onecycle"
const char* name(Precision p);     // "fp32" | "bf16" | "fp16"
const char* name(Checkpointing c); // "off" | "auto" | "all"
const char* name(LossKind k);      // "auto" | "cross_entropy" | "bce"
const char* name(SweepMode m);     // "none" | "grid" | "random"

// The enum a spelling names; nullopt for any other text.
std::optional<OptimizerKind> parseOptimizerKind(std::string_view text);
std::optional<ScheduleKind> parseScheduleKind(std::string_view text);
std::optional<Precision> parsePrecision(std::string_view text);
std::optional<Checkpointing> parseCheckpointing(std::string_view text);
std::optional<LossKind> parseLossKind(std::string_view text);
std::optional<SweepMode> parseSweepMode(std::string_view text);

} // namespace mhr::plan
