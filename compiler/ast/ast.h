// compiler/ast/ast.h — the abstract syntax tree of one .mhr file. Built by compiler/parse from the parse
// tree, read by sema, the formatter, the printers and lowering. Every node carries the SourceRange it came
// from; nodes are plain structs owned by their parent (statements by unique_ptr, values by value).
#pragma once

#include "compiler/diag/source.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mhr::ast {

using diag::SourceRange;

struct Name {
  std::string text;
  SourceRange range;
};

// A dotted path: `layer1.0.conv1`, `mammo.train`, `train.hr.epochs`, or a single name.
struct Path {
  std::vector<std::string> segments;
  SourceRange range;
  std::string str() const; // segments joined with '.'
  // The range of segment i (computed from the token's range; paths contain no spaces).
  SourceRange segmentRange(size_t i) const;
};

struct Argument;

struct Value {
  enum class Kind { Int, Float, Quantity, String, Bool, Size, List, Call, Path, Sequence };
  Kind kind = Kind::Int;
  SourceRange range;
  int64_t intValue = 0;       // Int; Size uses h/w
  double floatValue = 0;      // Float, Quantity
  bool boolValue = false;     // Bool
  int64_t h = 0, w = 0;       // Size
  std::string text;           // String (unescaped contents), Quantity unit
  std::string spelling;       // numbers as written (`1e-4` stays `1e-4` in fmt); includes a leading '-'
  bool overflow = false;      // Int/Size literal did not fit in 64 bits (sema reports it)
  std::vector<Value> items;   // List elements, Sequence terms (`conv(3x3) + bn + prelu`)
  Name callee;                // Call
  std::vector<Argument> args; // Call
  ast::Path path;             // Path

  bool isNumber() const { return kind == Kind::Int || kind == Kind::Float; }
  double number() const { return kind == Kind::Int ? static_cast<double>(intValue) : floatValue; }
  // `relu` (a one-segment Path) or `relu(...)`: the name; otherwise "".
  std::string calleeName() const;
  const Argument* namedArg(const std::string& name) const;
  // A call's argument given either as the position-th positional one or by `name` (nullptr when absent).
  const Value* argument(size_t position, const std::string& name) const;
};

struct Argument {
  std::optional<Name> name; // absent for a positional argument
  Value value;
  SourceRange range;
};

struct Attribute {
  Path key;
  Value value;
  SourceRange range;
};

struct Block {
  std::vector<Attribute> attrs;
  SourceRange range; // from '{' to '}'
  const Attribute* find(const std::string& key) const;
};

// ---- morph statements (inside `network X = morph P { ... }`) ----
struct MorphStmt {
  enum class Kind { Upscale, Deepen, Widen, GrowKernel, Activation, ReplaceHead, Branch };
  Kind kind;
  SourceRange range;
  SourceRange keywordRange;
  std::vector<Path> targets;  // upscale/deepen(after)/grow/activation: one; widen: one or more (tied class);
                              // branch: two (the source, then the target the branch is added to)
  bool bracketed = false;     // widen [a, b, c]: the user named a tied class explicitly
  Value argument;             // upscale: Int factor; deepen: the block value; widen: Int width;
                              // grow: Size; activation: value (prelu | p(gelu)); replace: Call;
                              // branch: the block value
  std::optional<Value> split; // widen ... split VALUE
  std::string text;           // the statement's source text, single-spaced (for tables and the tracker)
  explicit MorphStmt(Kind k) : kind(k) {}
};

// ---- top-level statements ----
struct Stmt {
  enum class Kind { Experiment, Seed, Preservation, Include, Dataset, Network, Train, Evaluate, Sweep };
  Kind kind;
  SourceRange range;
  SourceRange keywordRange;
  explicit Stmt(Kind k) : kind(k) {}
  virtual ~Stmt() = default;
};

struct ExperimentStmt : Stmt {
  Value name; // String
  ExperimentStmt() : Stmt(Kind::Experiment) {}
};
struct SeedStmt : Stmt {
  Value seed; // Int
  SeedStmt() : Stmt(Kind::Seed) {}
};
struct PreservationStmt : Stmt {
  Name level;
  PreservationStmt() : Stmt(Kind::Preservation) {}
};
struct IncludeStmt : Stmt {
  Value path; // String
  IncludeStmt() : Stmt(Kind::Include) {}
};
struct DatasetStmt : Stmt {
  Name name;
  Value constructor; // Call
  std::optional<Block> block;
  DatasetStmt() : Stmt(Kind::Dataset) {}
};
struct NetworkStmt : Stmt {
  Name name;
  bool isMorph = false;
  Value constructor;          // !isMorph: Call into the standard library
  std::optional<Block> block; // !isMorph
  Name parent;                // isMorph
  std::vector<std::unique_ptr<MorphStmt>> morphs;
  SourceRange morphBlockRange;
  NetworkStmt() : Stmt(Kind::Network) {}
};
struct StageStmt : Stmt { // train and evaluate
  Name network;
  Path split;       // DATASET.SPLIT
  Value resolution; // Size
  std::optional<Block> block;
  explicit StageStmt(Kind k) : Stmt(k) {}
};
struct SweepStmt : Stmt {
  Block block;
  SweepStmt() : Stmt(Kind::Sweep) {}
};

struct Comment {
  std::string text; // including the '#'
  SourceRange range;
};

struct File {
  diag::FileId id = diag::kNoFile;
  std::vector<std::unique_ptr<Stmt>> statements;
  std::vector<Comment> comments;
};

// Downcast helpers (the Kind tag says which; asserts on mismatch).
template <typename T> const T& as(const Stmt& s) {
  return static_cast<const T&>(s);
}
template <typename T> T& as(Stmt& s) {
  return static_cast<T&>(s);
}

const char* kindName(Stmt::Kind k);
const char* kindName(MorphStmt::Kind k);
const char* kindName(Value::Kind k);

} // namespace mhr::ast
