// compiler/verify/value_range.h — the value-range lattice the prover uses. In: a Graph. Out: for every node
// an interval [lo, hi] (bounds may be infinite) containing every value its output can take, for every input
// and in train and eval mode. Sound but coarse: layers with learned weights (conv, linear, batch norm) give
// (-inf, inf); activations, pools, adds and muls propagate bounds. Enough to prove, e.g., that a relu after
// `layer1.0.relu` or after a max pool of it sees only non-negative values.
#pragma once

#include "compiler/ir/graph.h"

#include <limits>
#include <string>
#include <vector>

namespace mhr::verify {

struct Interval {
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool nonNegative() const { return lo >= 0; }
  bool within(double a, double b) const { return lo >= a && hi <= b; }
  std::string str() const; // "[0, inf)", "(-inf, inf)", "[0, 6]"
};

std::vector<Interval> valueRanges(const ir::Graph& graph);

// The activation's output interval for inputs in `in` (sound superset).
Interval activationRange(const ir::Activation& act, const Interval& in);
// True when the activation is the identity on every value of `in`.
bool activationIsIdentityOn(const ir::Activation& act, const Interval& in);
// act(0) == 0 (needed after a zero-initialised residual layer).
bool activationFixesZero(const ir::Activation& act);

} // namespace mhr::verify
