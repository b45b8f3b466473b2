// compiler/ir/catalog.h — the standard library as the compiler sees it: an abstract catalog of base networks.
// In: a network name and its constructor arguments (`resnet18(classes: 2, width: 0.25)`). Out: the network's
// ir::Graph, or diagnostics at the offending argument. The implementation lives in stdlib/ (mhr_stdlib) and
// is reached through mhr::stdlib::catalog(); the compiler depends only on this interface.
#pragma once

#include "compiler/ast/ast.h"
#include "compiler/diag/diagnostics.h"
#include "compiler/ir/graph.h"

#include <optional>
#include <string>
#include <vector>

namespace mhr::ir {

// Options every stdlib network accepts (some only where noted in its NetworkInfo).
struct NetworkOptions {
  int64_t classes = 1000;
  double width = 1.0;                   // channel multiplier; see NetworkInfo::widthRule
  int64_t inChannels = 3;               // 1 (grayscale) or 3
  std::string weights;                  // a path the runtime loads; "" = random initialisation
  std::optional<double> dropout;        // networks with a dropout option; unset = torchvision's default
  std::optional<Activation> activation; // tiny_cnn only: its activation (default relu)
};

struct OptionInfo {
  std::string name;        // "classes"
  std::string type;        // "INT", "FLOAT", "1 | 3", "STRING", "ACTIVATION"
  std::string defaultText; // "1000"
  std::string description;
};

struct NetworkInfo {
  std::string name;        // "resnet18"
  std::string description; // one line
  std::vector<OptionInfo> options;
};

class NetworkCatalog {
public:
  virtual ~NetworkCatalog() = default;
  virtual std::vector<std::string> names() const = 0;
  virtual const NetworkInfo* info(const std::string& name) const = 0;
  // Checks the arguments (unknown option E0201 with "did you mean", wrong type E0202, out of range E0204,
  // each at the argument; an unknown network E0111 at `range`) and returns the options; nullopt after an
  // error.
  virtual std::optional<NetworkOptions> parseOptions(const std::string& name,
                                                     const std::vector<ast::Argument>& args,
                                                     diag::DiagnosticEngine& diags,
                                                     diag::SourceRange range) const = 0;
  // Builds the network; asserts that `name` exists and the options are valid (parseOptions checked them).
  virtual Graph build(const std::string& name, const NetworkOptions& options) const = 0;

  // parseOptions + build.
  std::optional<Graph> build(const std::string& name, const std::vector<ast::Argument>& args,
                             diag::DiagnosticEngine& diags, diag::SourceRange range) const {
    std::optional<NetworkOptions> options = parseOptions(name, args, diags, range);
    if (!options) return std::nullopt;
    return build(name, *options);
  }
};

} // namespace mhr::ir
