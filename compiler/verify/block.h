// compiler/verify/block.h — the layer terms of a `deepen` or `branch` block (`conv(3x3) + bn + relu`), parsed
// from the AST value into checked Term records. In: one ast::Value term and where it appears. Out: a Term, or
// nullopt after an E0303 at the term. Shared by deepen.cpp (identity and residual blocks) and branch.cpp
// (zero-joined side branches), so both spell and check their layers the same way.
#pragma once

#include "compiler/ast/ast.h"
#include "compiler/diag/diagnostics.h"
#include "compiler/ir/node.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mhr::verify {

struct Term {
  // GlobalMax / GlobalAvg: `global_max` / `global_avg`, only in a branch (adaptive pool to 1x1 + flatten).
  enum class Kind { Conv, Bn, Linear, Act, PRelu, PAct, GlobalMax, GlobalAvg };
  Kind kind = Kind::Conv;
  diag::SourceRange range;
  std::string text; // as the user would write it: "conv(3x3)", "bn", "gelu"
  // conv
  int64_t kh = 0, kw = 0, groups = 1, stride = 1, dilation = 1;
  int64_t outChannels = 0; // branch only (`out_channels: C`); 0 keeps the channel count
  std::optional<bool> bias;
  ir::PadMode padMode = ir::PadMode::Zeros;
  // bn
  double eps = 1e-5, momentum = 0.1;
  // act / p(ACT)
  ir::Activation act;
  // prelu: 0 = one slope per channel
  int64_t preluParams = 0;
};

// Where a term appears: a deepen block keeps the tensor's shape (no out_channels, no global pools); a branch
// block may change channels and resolution and ends with a global pool.
enum class BlockKind { Deepen, Branch };

std::optional<Term> parseTerm(const ast::Value& v, BlockKind where, diag::DiagnosticEngine& diags);

// The terms of a block value: the items of an `a + b + c` sequence, or the value itself.
std::vector<const ast::Value*> blockItems(const ast::Value& v);

} // namespace mhr::verify
