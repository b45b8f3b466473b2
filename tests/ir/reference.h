// tests/ir/reference.h — a float64 reference executor for IR graphs and morph recipes, test-only. In: a
// graph, a state dict (name -> tensor) and an input. Out: the output, computed with PyTorch's semantics for
// every op (per-side padding in all four modes, pools with ceil_mode and count_include_pad, adaptive pools,
// batch norm in eval or train mode). applyRecipe() implements compiler/plan/network_plan.h's recipe text
// literally, so the tests check the prover's claims numerically against the same contract the runtime
// implements. Train mode here means batch statistics in batch norm; dropout and stochastic depth are the
// identity (their random draws are not modelled).
#pragma once

#include "compiler/ir/graph.h"
#include "compiler/plan/network_plan.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mhr::testref {

struct Tensor {
  std::vector<int64_t> shape;
  std::vector<double> data;
  int64_t numel() const;
  double& at4(int64_t n, int64_t c, int64_t h, int64_t w);
  double at4(int64_t n, int64_t c, int64_t h, int64_t w) const;
};

using StateDict = std::map<std::string, Tensor>;

// Random but well-scaled parameters for every tensor of the graph (positive running variances, ...).
StateDict randomStateDict(const ir::Graph& graph, uint64_t seed);
Tensor randomInput(int64_t n, int64_t c, int64_t h, int64_t w, uint64_t seed); // N(0,1)-like, with negatives
Tensor run(const ir::Graph& graph, const StateDict& params, const Tensor& input, bool train);
// The parent's state dict -> the child's, following the recipe text of network_plan.h (random inits and noise
// drawn from `seed`).
StateDict applyRecipe(const StateDict& parent, const plan::MorphRecipe& recipe, uint64_t seed);
Tensor boxDownsample(const Tensor& x, int64_t r);
double maxAbsDiff(const Tensor& a, const Tensor& b); // infinity when the shapes differ
double maxAbs(const Tensor& a);

} // namespace mhr::testref
