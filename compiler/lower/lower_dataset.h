// compiler/lower/lower_dataset.h — the lower_dataset pass: a data set statement, as the plan records it
// written (constructor call and options block, plan::Values), to its typed, complete plan::DatasetSpec with
// every default filled in. Requires: the statement passed sema (schema types and ranges, the preprocessing
// order, the dataset rules of sema/checker.cpp); anything else is an internal error (MHR_ASSERT), never a
// user-facing message, since every spec rule has already been reported with its source range.
#pragma once

#include "compiler/plan/plan.h"

#include <cstdint>

namespace mhr::lower {

// `experimentSeed` is what a constructor without `seed:` draws its splits and images from.
plan::DatasetSpec lowerDatasetSpec(const plan::DatasetConfig& written, int64_t experimentSeed);

// A train stage's `augment:` list (checked by sema; as plan::TrainConfig::augment holds it: each operation a
// call, positional or named arguments) to its typed operations.
std::vector<plan::AugmentOp> lowerAugment(const std::vector<plan::Value>& list);

} // namespace mhr::lower
