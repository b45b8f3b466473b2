// compiler/sema/schema.h — the types of attribute values and the schema of every block and constructor call
// in the language (one table, docs/language.md documents it; a test checks the two agree). In: an ast::Value
// and a Type. Out: diagnostics for wrong kinds, unknown names ("did you mean"), out-of-range numbers, missing
// required arguments.
#pragma once

#include "compiler/ast/ast.h"
#include "compiler/diag/diagnostics.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mhr::sema {

struct Type;
using TypeRef = std::shared_ptr<const Type>;

struct Param {
  std::string name;
  TypeRef type;
  bool required = false;
  std::string defaultText; // for docs and messages ("0.5", "the experiment seed")
  std::string doc;
};

// A call such as `sgd(lr: 0.05)`. The first `positional` params may be given without names, in order. A call
// with no required params may also be written as a bare name (`cosine`, `hflip`).
struct CallSchema {
  std::string name;
  std::vector<Param> params;
  size_t positional = 0;
  std::string doc;
  const Param* find(const std::string& n) const;
};

struct Type {
  enum class Kind { Int, Float, Bool, String, Size, Quantity, Symbol, Path, List, Call, OneOf };
  Kind kind = Kind::Int;
  std::optional<double> min, max; // Int, Float, Quantity magnitude
  bool minExclusive = false, maxExclusive = false;
  std::vector<std::string> symbols;         // Symbol: the allowed names
  std::vector<std::string> units;           // Quantity: allowed units
  TypeRef element;                          // List
  size_t minItems = 0, maxItems = SIZE_MAX; // List
  std::vector<CallSchema> calls;            // Call: the alternatives
  std::vector<TypeRef> alternatives;        // OneOf
  std::string describe() const;             // "an integer >= 1", "one of fp32, bf16, fp16", ...
};

// Type constructors for the schema tables.
TypeRef intType(std::optional<double> min = std::nullopt, std::optional<double> max = std::nullopt);
TypeRef floatType(std::optional<double> min = std::nullopt, std::optional<double> max = std::nullopt,
                  bool minExclusive = false, bool maxExclusive = false);
TypeRef boolType();
TypeRef stringType();
TypeRef sizeType();
TypeRef quantityType(std::vector<std::string> units, std::optional<double> min = std::nullopt,
                     bool minExclusive = false);
TypeRef symbolType(std::vector<std::string> symbols); // empty: any bare name
TypeRef pathType();
TypeRef listType(TypeRef element, size_t minItems = 0, size_t maxItems = SIZE_MAX);
TypeRef callType(std::vector<CallSchema> calls);
TypeRef oneOfType(std::vector<TypeRef> alternatives);

// The attributes a block may hold, as Params (name, type, required).
struct BlockSchema {
  std::string what; // "train block", used in messages
  std::vector<Param> attrs;
  const Param* find(const std::string& n) const;
};

// Checks `value` against `type`; `what` names the thing for messages ("attribute 'epochs'").
// Returns false (after reporting) when the value does not fit.
bool checkValue(const ast::Value& value, const Type& type, const std::string& what,
                diag::DiagnosticEngine& diags);
// Checks a call's arguments against one schema (the callee name is already known to match).
bool checkCall(const ast::Value& call, const CallSchema& schema, diag::DiagnosticEngine& diags);
// Checks a block: unknown attributes (did you mean), duplicates, types, required ones (reported at `anchor`
// when the block is absent or lacks them).
void checkBlock(const ast::Block* block, const BlockSchema& schema, diag::SourceRange anchor,
                diag::DiagnosticEngine& diags);

// ---- the language's schemas ----
const std::vector<CallSchema>& datasetConstructors();
const BlockSchema& datasetOptions();
const BlockSchema& networkBlock();
const BlockSchema& trainBlock();
const BlockSchema& evaluateBlock();
const std::vector<std::string>& splitNames(); // train, val, test
const std::vector<std::string>& chestXray14Labels();
// Every name `metrics:` accepts; runtime/evaluator.cpp logs each (tests/runtime/trainer_test.cpp holds it to
// that).
const std::vector<std::string>& metricNames();
// The validation metrics `checkpoint: best(val.M)` and `early_stop: patience(N, on: val.M)` accept: those
// that need no operating point, computed after every epoch. loss, brier and ece are better lower.
const std::vector<std::string>& selectionMetrics();
bool higherIsBetter(const std::string& metric);

} // namespace mhr::sema
