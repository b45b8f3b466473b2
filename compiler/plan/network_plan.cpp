#include "compiler/plan/network_plan.h"

namespace mhr::plan {

const char* verdictName(Verdict v) {
  switch (v) {
  case Verdict::Exact:
    return "exact";
  case Verdict::Eval:
    return "eval";
  case Verdict::Approximate:
    return "approximate";
  case Verdict::Refuted:
    return "refuted";
  case Verdict::Unproved:
    return "unproved";
  case Verdict::Declared:
    return "declared";
  }
  return "?";
}

const char* modeName(ProofMode m) {
  return m == ProofMode::Any ? "any" : "eval";
}

const char* morphKindName(MorphRecipe::Kind k) {
  switch (k) {
  case MorphRecipe::Kind::Upscale:
    return "upscale";
  case MorphRecipe::Kind::Deepen:
    return "deepen";
  case MorphRecipe::Kind::Widen:
    return "widen";
  case MorphRecipe::Kind::GrowKernel:
    return "grow kernel";
  case MorphRecipe::Kind::Activation:
    return "activation";
  case MorphRecipe::Kind::ReplaceHead:
    return "replace head";
  case MorphRecipe::Kind::Branch:
    return "branch";
  }
  return "?";
}

ImportRecipe importRecipeFor(const ir::Graph& graph) {
  ImportRecipe r;
  const ir::NodeId input = graph.inputId();
  if (graph.node(input).input.channels != 1) return r;
  for (ir::NodeId user : graph.usersOf(input)) {
    const ir::Node& n = graph.node(user);
    if (n.op == ir::OpKind::Conv2d) r.sumInputChannels.push_back(n.name + ".weight");
  }
  return r;
}

} // namespace mhr::plan
