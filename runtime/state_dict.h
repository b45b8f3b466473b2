// runtime/state_dict.h — weights in and out of the runtime. In: torch.save'd state dicts (the zip format of
// `torch.save(model.state_dict())`, torchvision's .pth files) and safetensors files, both untrusted and
// parsed with bounds checks and no code execution; or a module's parameters and buffers. Out: an ordered name
// -> tensor map, files that torch.load and safetensors readers accept, and a checked copy into a module with
// errors that name the parameter (missing, unexpected, shape or dtype mismatch, NaN/Inf).
#pragma once

#include "runtime/torch_compat.h"

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace mhr::runtime {

// Tensors by name, in the order they were added (file order, or the module's registration order).
class StateDict {
public:
  // Throws mhr::UserError on a duplicate name (a hostile or broken file can repeat a key).
  void add(const std::string& name, const torch::Tensor& tensor);
  const torch::Tensor* find(const std::string& name) const;
  const std::vector<std::string>& names() const { return names_; }
  const torch::Tensor& at(const std::string& name) const;
  size_t size() const { return names_.size(); }
  bool empty() const { return names_.empty(); }

private:
  std::vector<std::string> names_;
  std::map<std::string, torch::Tensor> tensors_;
};

enum class WeightFormat { TorchSave, Safetensors };

// Reads a weights file, choosing the format from its first bytes. Throws mhr::UserError naming the file.
StateDict readStateDict(const std::string& path);
// The same from bytes already in memory; `displayName` names the source in error messages.
StateDict parseTorchSave(std::string_view bytes, const std::string& displayName);
StateDict parseSafetensors(std::string_view bytes, const std::string& displayName);

// Serialised forms. Tensors are written contiguous, on the CPU, in their own dtype.
std::string serializeTorchSave(const StateDict& state, const std::string& archiveName = "archive");
std::string serializeSafetensors(const StateDict& state,
                                 const std::map<std::string, std::string>& metadata = {});
// Writes atomically; the format comes from the extension (.safetensors, else torch.save's zip).
void writeStateDict(const std::string& path, const StateDict& state);
WeightFormat formatForPath(const std::string& path);

// A module's parameters then buffers, under the dotted names PyTorch gives them (`layer1.0.conv1.weight`).
// Tensors are shared with the module (not copies).
StateDict moduleStateDict(const torch::nn::Module& module);

struct LoadOptions {
  bool strict = true;            // missing or unexpected keys are errors
  bool castFloating = true;      // a float16/bfloat16/float64 tensor may fill a float32 parameter (and back)
  bool checkFinite = true;       // NaN/Inf in a loaded floating tensor is an error
  std::vector<std::string> skip; // names (exact, or prefix ending in '.') left at their current values
};

// Copies `state` into the module's parameters and buffers (no autograd). Validates everything before copying
// a single value, so on error the module is unchanged. `source` names the file in messages.
void loadStateDict(torch::nn::Module& module, const StateDict& state, const std::string& source,
                   const LoadOptions& options = {});

std::string dtypeName(torch::ScalarType type);            // "float32", "bfloat16", ...
std::string shapeString(const torch::IntArrayRef& shape); // "[64, 3, 7, 7]"

} // namespace mhr::runtime
