// compiler/ir/json.h — an ir::Graph as JSON and back. In: a graph (or JSON text from a file, untrusted). Out:
// JSON text with one object per node (name, op, inputs and the attributes of that op, in the IR's own
// spelling: opName/actName/padModeName), or the graph it describes. `mhr run` records each evaluated
// network this way, so `mhr predict` and `mhr export` rebuild the architecture the run trained without
// re-reading the spec (which may have changed since); `spec.json` of an export carries the same text.
// A malformed document is a UserError naming the node and field, never an assert: the structural invariants
// ir::Graph asserts (unique names, inputs defined before use, one input node, an output) are checked first,
// and then the verifier's per-op checks.
#pragma once

#include "compiler/ir/graph.h"

#include <string>

namespace mhr::ir {

constexpr int kGraphJsonFormat = 1;

// {"format": 1, "output": NAME, "nodes": [{"name", "op", "inputs", ...attributes}]}; stable, indented.
std::string graphToJson(const Graph& graph);

// `where` names the document in messages ("mhr-checkpoints/RUN/model.evaluate.hr.json: graph").
Graph graphFromJson(const std::string& text, const std::string& where);

} // namespace mhr::ir
