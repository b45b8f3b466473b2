// compiler/verify/step.h — what every morph rewrite receives and returns (shared by upscale.h, deepen.h,
// widen.h, grow_kernel.h, activation.h, replace_head.h), and small helpers they share. In: the graph before
// the statement, the statement, its seed and context. Out: a StepOutcome (graph after, recipe, verdict,
// reason), or nullopt after reporting a user mistake (the statement is then skipped).
#pragma once

#include "compiler/ast/ast.h"
#include "compiler/diag/diagnostics.h"
#include "compiler/ir/graph.h"
#include "compiler/plan/network_plan.h"
#include "compiler/verify/morph.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mhr::verify {

// Where the search for a fresh name prefix ended, per stem, over one morph sequence (see freshPrefix).
struct FreshNames {
  std::map<std::string, long> next;
};

struct StepInput {
  const ir::Graph& graph; // the network before this statement
  const ast::MorphStmt& stmt;
  const MorphContext& ctx;
  uint64_t seed = 0;           // this statement's seed (morph.h)
  int64_t upscaleDivisor = 1;  // upscale: the product of this and every later upscale factor
  int64_t upscaleBefore = 1;   // upscale: the product of every earlier upscale factor
  FreshNames* names = nullptr; // shared by the statements of one morph sequence
};

struct StepOutcome {
  ir::Graph graph; // after the statement (the input graph when recipe.applied is false)
  plan::MorphRecipe recipe;
  plan::Verdict verdict = plan::Verdict::Unproved;
  plan::ProofMode mode = plan::ProofMode::Any;
  std::string reason;
  diag::SourceRange where;       // where a refutation is reported (default: the statement)
  std::vector<diag::Note> notes; // attached to the refutation / weak-verdict diagnostic
  bool noEffect = false;         // W0003
};

// A refutation; `applied` says whether the rewrite was still carried out.
StepOutcome refuted(const ir::Graph& graph, plan::MorphRecipe recipe, std::string reason, bool applied);

// A fresh node-name prefix `<base>_<kind>` (then `_<kind>2`, ...): the first that no node is named or lies
// under (`<prefix>.…`). `names` (optional) carries the search over the statements of one morph sequence.
std::string freshPrefix(const ir::Graph& graph, const std::string& base, const std::string& kind,
                        FreshNames* names = nullptr);

// `graph` with `block` inserted right after node `anchor`, and every other reader of `anchor`
// (and the graph output, when it was `anchor`) read `blockOutput` instead.
ir::Graph insertAfter(const ir::Graph& graph, ir::NodeId anchor, std::vector<ir::Node> block,
                      const std::string& blockOutput);

// `graph` with node `id` replaced by `node` (same name); every other node is shared.
ir::Graph replaceNode(const ir::Graph& graph, ir::NodeId id, ir::Node node);

// Channel count and rank (4 or 2) of a node's output, known without a resolution.
int64_t channelsOf(const ir::Graph& graph, ir::NodeId id);
int rankOf(const ir::Graph& graph, ir::NodeId id);

// Torch's default initialisation of a conv/linear weight or bias with the given fan-in:
// U(-1/sqrt(fanIn), 1/sqrt(fanIn)) (kaiming_uniform_(a=sqrt(5)) for weights, the same bound for biases).
plan::TensorInit defaultInit(const std::string& name, std::vector<int64_t> shape, int64_t fanIn,
                             uint64_t seed);
plan::TensorInit fillInit(const std::string& name, std::vector<int64_t> shape, double value);
plan::TensorInit zerosInit(const std::string& name, std::vector<int64_t> shape, bool int64 = false);
// The five tensors of a new BatchNorm2d `name` over c channels: weight `weight`, bias 0, running mean 0,
// running variance 1, no batches tracked.
void appendBatchNormInit(std::vector<plan::TensorInit>& out, const std::string& name, int64_t c,
                         double weight);

// "1x1", "3x3".
std::string sizeText(int64_t h, int64_t w);

} // namespace mhr::verify
