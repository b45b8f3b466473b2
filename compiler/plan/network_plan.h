// compiler/plan/network_plan.h — the networks of a plan. In: what the compiler decided (a stdlib builder and
// its options, or a parent network and a proved morph sequence). Out: plain data the runtime executes: the
// final ir::Graph to instantiate, how to import weights, and for a morph child one weight-space RECIPE per
// statement that turns the parent's state dict into the child's, exactly as the prover assumed.
//
// Applying a morph child (runtime): start from the parent's *current* state dict (after its training stages);
// for each step in order apply step.recipe (below) to get the state dict of the step's graph (step.edit
// applied to the graph before it); the last step's graph is NetworkPlan::graph. Tensor names are state_dict
// keys (compiler/ir/params.h lists every tensor of a graph).
//
// Recipe semantics — common rules for every MorphRecipe:
//  R1. Every parent tensor not named in `removed`, `created`, `widen.edits`, `upscale` or `grow` is copied
//      unchanged, by name. After the step the state dict holds exactly the tensors of
//      ir::stateDictSpec(graph).
//  R2. Tensors in `removed` are dropped; tensors in `created` are made from their TensorInit (below).
//  R3. Arithmetic is done in float64 and rounded once to the tensor's dtype, so the re-check sees only the
//      rounding the proof allows.
//  R4. Random initialisations are reproducible: each random TensorInit has its own `seed`; the runtime draws
//      from a CPU torch::Generator seeded with it, on a float32 CPU tensor of `shape`, then moves the result.
#pragma once

#include "compiler/diag/source.h"
#include "compiler/ir/graph.h"
#include "compiler/plan/value.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mhr::plan {

// ---- verdicts ----

// What the prover established for one morph statement (or composed over a sequence), strongest first.
enum class Verdict {
  Exact,       // child == parent for every input, in train and eval mode (same random draws)
  Eval,        // child == parent with batch norm / dropout in eval mode
  Approximate, // close but not equal; `reason` says why and how close
  Refuted,     // not function-preserving; `reason` says why in the user's terms
  Unproved,    // neither proved nor refuted (never reported as a proof)
  Declared,    // explicitly non-preserving (replace head); excluded from the composed proof
};
enum class ProofMode { Any, Eval }; // the mode the proof needs

const char* verdictName(Verdict v); // "exact", "eval", "approximate", "refuted", "unproved", "declared"
const char* modeName(ProofMode m);  // "any", "eval"

// ---- recipes ----

// A tensor created by a step, with its initial value.
struct TensorInit {
  enum class Kind {
    Zeros,        // all 0
    Fill,         // all `value` (e.g. an inserted batch norm's weight sqrt(1 + eps))
    IdentityConv, // conv weight [O, I/groups, kH, kW] with O == I: 1 at [o, o mod (I/groups), (kH-1)/2,
                  // (kW-1)/2] (the centre tap of each output channel's own input channel), 0 elsewhere
    Identity,     // linear weight [C, C]: the identity matrix
    Uniform,      // U(low, high) drawn as in R4 (torch's default init for conv/linear: bound 1/sqrt(fan_in))
    Copy,         // the parent tensor `source`, broadcast to `shape` (a [1] tensor fills every element)
  };
  std::string name;           // state_dict key in the child
  std::vector<int64_t> shape; // [] for a scalar
  bool int64 = false;         // num_batches_tracked is int64; everything else float
  Kind kind = Kind::Zeros;
  double value = 0.0;           // Fill
  double low = 0.0, high = 0.0; // Uniform
  uint64_t seed = 0;            // Uniform
  std::string source;           // Copy
};

// upscale PATH by R: fuse an RxR box downsampler into the conv `conv`:
//   W'[o, c, R*u + a, R*v + b] = W[o, c, u, v] / R^2   for a, b in [0, R)      (kernel kH*R x kW*R)
//   bias unchanged; stride, padding x R are in the graph. child(x) == parent(boxR(x)).
struct UpscaleRecipe {
  std::string conv;
  int64_t factor = 1;
};

// grow kernel PATH to KxK: W' is zero everywhere except W'[o, c, u + top, v + left] = W[o, c, u, v];
// padding grows by dilation * (top, bottom, left, right) (in the graph). Bias unchanged.
struct GrowKernelRecipe {
  std::string conv;
  int64_t oldKH = 0, oldKW = 0, newKH = 0, newKW = 0;
  int64_t top = 0, left = 0; // where the old kernel sits in the new one
};

// One tensor changed by a widen step. The widened channel class occupies `oldChannels` consecutive channels
// of `axis` starting at each of `offsets` (in channels, ascending, measured in the PARENT tensor); along the
// axis every channel is `block` consecutive elements (1, except for a linear reading a flattened tensor,
// where a channel owns H*W features). The child tensor is the parent tensor with each such run replaced by
// `newChannels` runs: run j is the parent's run g(j) = WidenRecipe::mapping[j], multiplied by
// WidenRecipe::scale[j] when `scaled`. Everything outside the runs is copied in order. A tensor edited twice
// (a layer that both produces and reads the widened class) is edited along two different axes; the two edits
// commute.
struct TensorEdit {
  enum class Role { Producer, Channelwise, Consumer };
  std::string tensor; // state_dict key (same in parent and child)
  int64_t axis = 0;   // 0: output channels / per-channel values; 1: a consumer's input columns
  std::vector<int64_t> offsets;
  int64_t block = 1;
  bool scaled = false; // consumers only
  Role role = Role::Producer;
};

// widen PATH to C (Net2WiderNet replication). mapping[j] = j for j < oldChannels, a parent channel for the
// new ones; scale[j] = alpha_j with, for every parent channel c, the sum of alpha_j over {j : mapping[j] ==
// c} == 1 (uniform: 1/n_c; split random: random unequal parts). Producers' output rows and every per-channel
// value on the way to the consumers (batch norm weight/bias/running stats, prelu and p(ACT) slopes, depthwise
// filters) are replicated; consumers' input columns are replicated and scaled, so the consumers compute the
// same sums. noiseSigma > 0 (`split noise(SIGMA)`, approximate): after the edits, each consumer tensor's NEW
// columns (j >= oldChannels) get independent N(0, (noiseSigma * std(parent consumer tensor))^2) noise, drawn
// as in R4 with seed noiseSeed + (index of the edit in `edits`).
struct WidenRecipe {
  std::vector<std::string> producers;
  int64_t oldChannels = 0;
  int64_t newChannels = 0;
  std::vector<int64_t> mapping;
  std::vector<double> scale;
  std::vector<TensorEdit> edits;
  std::string split = "uniform"; // uniform | random | noise
  double noiseSigma = 0.0;
  uint64_t noiseSeed = 0;
};

struct MorphRecipe {
  enum class Kind { Upscale, Deepen, Widen, GrowKernel, Activation, ReplaceHead, Branch };
  Kind kind = Kind::Upscale;
  std::vector<std::string> removed; // R2
  std::vector<TensorInit> created;  // R2: deepen's new layers, activation's new slopes, the new head
  UpscaleRecipe upscale;            // kind == Upscale
  GrowKernelRecipe grow;            // kind == GrowKernel
  WidenRecipe widen;                // kind == Widen
  std::vector<std::string>
      newNodes;        // Deepen, Branch: the inserted nodes, in order (for display and freezing)
  bool applied = true; // false: the statement was refuted before it changed anything
};

const char* morphKindName(MorphRecipe::Kind k); // "upscale", "deepen", ...

// ---- networks ----

// The graph after a morph step, stored as an edit of the graph before it. A child of N statements would
// otherwise hold N full graphs, memory quadratic in N (2,000 `deepen` statements: 3.8 GB); an edit holds only
// the nodes the statement added or changed plus runs of nodes kept from the graph before.
struct GraphEdit {
  struct Piece {
    int32_t from = 0;            // copy `count` nodes of the graph before, starting at index `from`,
    int32_t count = 0;           //
    std::vector<ir::Node> nodes; // then append these (new or changed nodes)
  };
  std::vector<Piece> pieces;
  std::string output;    // the output node's name
  size_t beforeSize = 0; // nodes of the graph before (a cheap check that the edit meets its graph)

  // The edit that turns `before` into `after` (nodes are kept only when equal, origin included).
  static GraphEdit between(const ir::Graph& before, const ir::Graph& after);
  // `after` again; asserts (our bug) that `before` is the graph the edit was made from.
  ir::Graph apply(const ir::Graph& before) const;
  size_t addedNodes() const; // nodes stored in the edit itself
};

struct MorphStep {
  std::string text;        // the statement, single-spaced: "widen layer1.0.conv1 to 32 split random(seed: 3)"
  std::string location;    // "file:line:col"
  diag::SourceRange range; // for compiler messages (not used by the runtime)
  MorphRecipe recipe;
  Verdict verdict = Verdict::Unproved;
  ProofMode mode = ProofMode::Any;
  std::string reason; // the proof's or refutation's explanation, in the user's terms
  uint64_t seed = 0;  // the seed this step's random choices were drawn from
  GraphEdit edit;     // the network after this step, as an edit of the network before it
};

// Weight import for a stdlib network (runtime, when `weights` is set). Keys are matched by name.
// sumInputChannels: stem tensors of a 1-channel network; when the file holds 3 input channels there, the
// runtime sums the weight over axis 1 (keepdim), timm's rule: a gray image x seen as (x, x, x) gives the same
// response as before. Any other shape mismatch is an error naming the tensor.
struct ImportRecipe {
  std::vector<std::string> sumInputChannels;
};

struct NetworkPlan {
  enum class Origin { Stdlib, Morph };
  std::string name;
  Origin origin = Origin::Stdlib;
  std::string location; // "file:line:col" of the network statement
  // Stdlib:
  std::string builder; // "resnet18"
  Attrs options;       // as written, defaults filled: classes, width, in_channels, weights, dropout, ...
  std::string weights; // "" = random initialisation (torch's defaults, seeded by the experiment seed)
  ImportRecipe import;
  // Morph:
  std::string parent;
  std::vector<MorphStep> steps;
  Verdict verdict = Verdict::Exact; // composed over the steps (Declared steps excluded)
  ProofMode mode = ProofMode::Any;
  bool strictWeights = true; // network block `strict`: missing/unexpected weight names are errors
  int64_t initSeed = -1;     // network block `init_seed`; -1 = derive from the experiment seed
  // Both:
  ir::Graph graph; // the network to instantiate
  // How many of the plan's stages run before this network's statement. The runtime materialises the network
  // just before stage `afterStages` (a morph child from its parent's weights at that moment).
  size_t afterStages = 0;
};

// The import recipe of a stdlib graph: the weights of every conv reading the input directly when the network
// has one input channel.
ImportRecipe importRecipeFor(const ir::Graph& graph);

} // namespace mhr::plan
