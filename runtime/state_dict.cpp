#include "runtime/state_dict.h"

#include "runtime/torch_pickle.h"
#include "runtime/zip_archive.h"
#include "support/assert.h"
#include "support/error.h"
#include "support/files.h"
#include "support/strings.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>

namespace mhr::runtime {
namespace {

constexpr uint64_t kMaxSafetensorsHeader = 100u << 20; // the reference reader's limit

struct SafetensorsType {
  const char* name;
  torch::ScalarType type;
};
const SafetensorsType kSafetensorsTypes[] = {
    {"F64", torch::kDouble}, {"F32", torch::kFloat}, {"F16", torch::kHalf},  {"BF16", torch::kBFloat16},
    {"I64", torch::kLong},   {"I32", torch::kInt},   {"I16", torch::kShort}, {"I8", torch::kChar},
    {"U8", torch::kByte},    {"BOOL", torch::kBool},
};

std::string describeList(const std::vector<std::string>& names) {
  std::string s;
  size_t shown = std::min<size_t>(names.size(), 8);
  for (size_t i = 0; i < shown; ++i) s += (i ? ", '" : "'") + names[i] + "'";
  if (names.size() > shown) s += " and " + std::to_string(names.size() - shown) + " more";
  return s;
}

bool skipped(const std::string& name, const std::vector<std::string>& skip) {
  for (const std::string& s : skip) {
    if (name == s) return true;
    if (!s.empty() && s.back() == '.' && support::startsWith(name, s)) return true;
  }
  return false;
}

} // namespace

// ---- StateDict
// ------------------------------------------------------------------------------------------------

void StateDict::add(const std::string& name, const torch::Tensor& tensor) {
  if (!tensors_.emplace(name, tensor).second) throw UserError("the state dict holds '" + name + "' twice");
  names_.push_back(name);
}

const torch::Tensor* StateDict::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

const torch::Tensor& StateDict::at(const std::string& name) const {
  const torch::Tensor* t = find(name);
  MHR_ASSERT(t != nullptr, "StateDict::at on a missing name");
  return *t;
}

std::string dtypeName(torch::ScalarType type) {
  switch (type) {
  case torch::kFloat:
    return "float32";
  case torch::kDouble:
    return "float64";
  case torch::kHalf:
    return "float16";
  case torch::kBFloat16:
    return "bfloat16";
  case torch::kLong:
    return "int64";
  case torch::kInt:
    return "int32";
  case torch::kShort:
    return "int16";
  case torch::kChar:
    return "int8";
  case torch::kByte:
    return "uint8";
  case torch::kBool:
    return "bool";
  default:
    return c10::toString(type);
  }
}

std::string shapeString(const torch::IntArrayRef& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// ---- torch.save zip
// -------------------------------------------------------------------------------------------

StateDict parseTorchSave(std::string_view bytes, const std::string& displayName) {
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x80)
    throw UserError(
        "'" + displayName +
        "' is in the legacy torch.save format (PyTorch before 1.6), which mhr does not read: load it in "
        "Python and save it again with torch.save (or export safetensors)");
  ZipReader zip(bytes, displayName);
  // Every record lives under one top-level folder (the archive name): "<name>/data.pkl", "<name>/data/<key>".
  const ZipEntry* pickle = nullptr;
  std::string prefix;
  for (const ZipEntry& e : zip.entries()) {
    size_t slash = e.name.find('/');
    if (slash != std::string::npos && e.name.substr(slash) == "/data.pkl") {
      if (pickle) throw UserError("'" + displayName + "' holds more than one data.pkl");
      pickle = &e;
      prefix = e.name.substr(0, slash + 1);
    }
  }
  for (const ZipEntry& e : zip.entries())
    if (support::endsWith(e.name, "/constants.pkl") || e.name.find("/code/") != std::string::npos)
      throw UserError("'" + displayName +
                      "' is a TorchScript module, not a state dict: save `model.state_dict()`");
  if (!pickle)
    throw UserError("'" + displayName + "' is a zip archive without data.pkl: not a torch.save file");
  if (const ZipEntry* order = zip.find(prefix + "byteorder")) {
    if (zip.read(*order) != "little")
      throw UserError("'" + displayName + "' was saved on a big-endian machine, which mhr does not read");
  }
  StorageLoader loader = [&](const std::string& key, torch::ScalarType dtype, int64_t numel) {
    const ZipEntry* rec = zip.find(prefix + "data/" + key);
    if (!rec) throw UserError("'" + displayName + "': tensor data record 'data/" + key + "' is missing");
    std::string_view data = zip.read(*rec);
    uint64_t item = c10::elementSize(dtype);
    if (static_cast<uint64_t>(numel) > data.size() / std::max<uint64_t>(item, 1) ||
        data.size() != numel * item)
      throw UserError("'" + displayName + "': tensor data record 'data/" + key + "' has " +
                      std::to_string(data.size()) + " bytes, expected " + std::to_string(numel) + " x " +
                      std::to_string(item));
    torch::Tensor t = torch::empty({numel}, torch::TensorOptions().dtype(dtype));
    if (numel > 0) std::memcpy(t.data_ptr(), data.data(), data.size());
    return t;
  };
  return unpickleStateDict(zip.read(*pickle), loader, displayName);
}

std::string serializeTorchSave(const StateDict& state, const std::string& archiveName) {
  std::vector<std::pair<std::string, torch::Tensor>> storages;
  std::string pickle = pickleStateDict(state, storages);
  ZipWriter zip;
  // Record order as torch.save writes it: data.pkl, then byteorder, the storages and the version.
  zip.add(archiveName + "/data.pkl", pickle);
  zip.add(archiveName + "/byteorder", "little");
  for (const auto& [key, tensor] : storages) {
    std::string_view data(static_cast<const char*>(tensor.data_ptr()),
                          tensor.numel() * tensor.element_size());
    zip.add(archiveName + "/data/" + key, data);
  }
  zip.add(archiveName + "/version", "3\n");
  return zip.finish();
}

// ---- safetensors
// ----------------------------------------------------------------------------------------------

StateDict parseSafetensors(std::string_view bytes, const std::string& displayName) {
  auto bad = [&](const std::string& why) {
    return UserError("'" + displayName + "' is not valid safetensors: " + why);
  };
  if (bytes.size() < 8) throw bad("shorter than its 8-byte header length");
  uint64_t headerLen = 0;
  for (int i = 7; i >= 0; --i)
    headerLen = (headerLen << 8) | static_cast<unsigned char>(bytes[static_cast<size_t>(i)]);
  if (headerLen > kMaxSafetensorsHeader)
    throw bad("header length " + std::to_string(headerLen) + " is implausible");
  if (headerLen > bytes.size() - 8) throw bad("the header runs past the end of the file (truncated?)");
  std::string_view data = bytes.substr(8 + headerLen);

  nlohmann::ordered_json header;
  try {
    header = nlohmann::ordered_json::parse(bytes.substr(8, headerLen));
  } catch (const nlohmann::json::exception& e) {
    throw bad(std::string("the header is not JSON (") + e.what() + ")");
  }
  if (!header.is_object()) throw bad("the header is not a JSON object");

  struct Slot {
    std::string name;
    torch::ScalarType type;
    std::vector<int64_t> shape;
    uint64_t begin, end;
  };
  std::vector<Slot> slots;
  for (const auto& [name, info] : header.items()) {
    if (name == "__metadata__") {
      if (!info.is_object()) throw bad("__metadata__ is not an object");
      continue;
    }
    auto field = [&](const char* key) -> const nlohmann::ordered_json& {
      auto it = info.find(key);
      if (!info.is_object() || it == info.end()) throw bad("tensor '" + name + "' has no '" + key + "'");
      return *it;
    };
    const auto& dtype = field("dtype");
    const auto& shape = field("shape");
    const auto& offsets = field("data_offsets");
    Slot s{name, torch::kFloat, {}, 0, 0};
    bool known = false;
    for (const SafetensorsType& t : kSafetensorsTypes)
      if (dtype.is_string() && dtype.get<std::string>() == t.name) {
        s.type = t.type;
        known = true;
      }
    if (!known) throw bad("tensor '" + name + "' has unsupported dtype " + dtype.dump());
    if (!shape.is_array() || shape.size() > 64) throw bad("tensor '" + name + "' has a malformed shape");
    uint64_t numel = 1;
    for (const auto& d : shape) {
      if (!d.is_number_unsigned()) throw bad("tensor '" + name + "' has a malformed shape");
      uint64_t v = d.get<uint64_t>();
      if (v > (uint64_t{1} << 62) || (v != 0 && numel > (uint64_t{1} << 62) / v))
        throw bad("tensor '" + name + "' is too large");
      numel *= v;
      s.shape.push_back(static_cast<int64_t>(v));
    }
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned())
      throw bad("tensor '" + name + "' has malformed data_offsets");
    s.begin = offsets[0].get<uint64_t>();
    s.end = offsets[1].get<uint64_t>();
    if (s.begin > s.end || s.end > data.size())
      throw bad("tensor '" + name + "' lies outside the file (truncated?)");
    if (s.end - s.begin != numel * c10::elementSize(s.type))
      throw bad("tensor '" + name + "' has " + std::to_string(s.end - s.begin) + " bytes for shape " +
                shapeString(s.shape) + " of " + dtypeName(s.type));
    slots.push_back(std::move(s));
  }
  // Like the reference reader: the tensors tile the data section exactly, without holes or overlaps.
  std::vector<const Slot*> byOffset;
  for (const Slot& s : slots) byOffset.push_back(&s);
  std::sort(byOffset.begin(), byOffset.end(), [](const Slot* a, const Slot* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  uint64_t cursor = 0;
  for (const Slot* s : byOffset) {
    if (s->begin != cursor)
      throw bad("tensor '" + s->name + "' overlaps another or leaves a gap in the data");
    cursor = s->end;
  }
  if (cursor != data.size())
    throw bad("the data section has " + std::to_string(data.size() - cursor) + " stray bytes");

  StateDict out;
  for (const Slot& s : slots) {
    torch::Tensor t = torch::empty(s.shape, torch::TensorOptions().dtype(s.type));
    if (s.end > s.begin) std::memcpy(t.data_ptr(), data.data() + s.begin, s.end - s.begin);
    out.add(s.name, t);
  }
  return out;
}

std::string serializeSafetensors(const StateDict& state, const std::map<std::string, std::string>& metadata) {
  // Larger elements first, then by name (as the reference writer does), so every tensor stays aligned.
  std::vector<std::string> order = state.names();
  std::stable_sort(order.begin(), order.end(), [&](const std::string& a, const std::string& b) {
    size_t ea = state.at(a).element_size(), eb = state.at(b).element_size();
    return ea != eb ? ea > eb : a < b;
  });
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<torch::Tensor> tensors;
  uint64_t offset = 0;
  for (const std::string& name : order) {
    torch::Tensor t = state.at(name).detach().to(torch::kCPU).contiguous();
    const char* dtype = nullptr;
    for (const SafetensorsType& st : kSafetensorsTypes)
      if (st.type == t.scalar_type()) dtype = st.name;
    if (!dtype)
      throw UserError("cannot write tensor '" + name + "' of dtype " + dtypeName(t.scalar_type()) +
                      " to safetensors");
    uint64_t nbytes = t.numel() * t.element_size();
    header[name] = {
        {"dtype", dtype}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
    tensors.push_back(t);
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');
  std::string out;
  out.reserve(8 + json.size() + offset);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((json.size() >> (8 * i)) & 0xff));
  out += json;
  for (const torch::Tensor& t : tensors)
    out.append(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size());
  return out;
}

// ---- files
// ----------------------------------------------------------------------------------------------------

WeightFormat formatForPath(const std::string& path) {
  return support::endsWith(support::toLower(path), ".safetensors") ? WeightFormat::Safetensors
                                                                   : WeightFormat::TorchSave;
}

StateDict readStateDict(const std::string& path) {
  std::optional<std::string> bytes = support::readFile(path);
  if (!bytes) throw UserError("cannot read weights file '" + path + "'");
  if (bytes->size() >= 4 && bytes->compare(0, 4, "PK\x03\x04") == 0) return parseTorchSave(*bytes, path);
  if (bytes->size() >= 9 && (*bytes)[8] == '{') return parseSafetensors(*bytes, path);
  if (!bytes->empty() && static_cast<unsigned char>((*bytes)[0]) == 0x80) return parseTorchSave(*bytes, path);
  if (formatForPath(path) == WeightFormat::Safetensors) return parseSafetensors(*bytes, path);
  throw UserError("'" + path + "' is neither a torch.save zip archive nor a safetensors file");
}

void writeStateDict(const std::string& path, const StateDict& state) {
  if (formatForPath(path) == WeightFormat::Safetensors) {
    support::writeFileAtomic(path, serializeSafetensors(state));
  } else {
    support::writeFileAtomic(path, serializeTorchSave(state));
  }
}

// ---- modules
// --------------------------------------------------------------------------------------------------

StateDict moduleStateDict(const torch::nn::Module& module) {
  // Module by module, parameters then buffers: the order PyTorch's state_dict() uses.
  StateDict out;
  for (const auto& item : module.named_modules("", /*include_self=*/true)) {
    std::string prefix = item.key().empty() ? "" : item.key() + ".";
    for (const auto& p : item.value()->named_parameters(/*recurse=*/false))
      out.add(prefix + p.key(), p.value());
    for (const auto& b : item.value()->named_buffers(/*recurse=*/false)) out.add(prefix + b.key(), b.value());
  }
  return out;
}

// torchvision's DenseNet weights (densenet121-a639ec97.pth and its siblings) predate the current module
// names: `denselayer1.norm.1.weight` is today's `denselayer1.norm1.weight`. torchvision renames them on load;
// so do we, only for a name the network lacks whose renamed form it has.
static std::string legacyDenseNetName(const std::string& name) {
  for (const char* part : {".norm.", ".relu.", ".conv."}) {
    size_t at = name.find(part);
    if (at == std::string::npos || name.find("denselayer") == std::string::npos) continue;
    size_t digit = at + std::strlen(part);
    if (digit + 1 < name.size() && (name[digit] == '1' || name[digit] == '2') && name[digit + 1] == '.')
      return name.substr(0, at + std::strlen(part) - 1) + name.substr(digit);
  }
  return "";
}

void loadStateDict(torch::nn::Module& module, const StateDict& state, const std::string& source,
                   const LoadOptions& options) {
  StateDict expected = moduleStateDict(module);
  std::vector<std::string> missing, unexpected, problems;
  std::map<std::string, std::string> renamed; // file name -> network name (legacy names)
  for (const std::string& name : state.names()) {
    if (skipped(name, options.skip)) continue;
    const torch::Tensor* dst = expected.find(name);
    if (!dst) {
      std::string modern = legacyDenseNetName(name);
      if (!modern.empty() && !state.find(modern) && (dst = expected.find(modern))) renamed[name] = modern;
    }
    if (!dst) {
      unexpected.push_back(name);
      continue;
    }
    const torch::Tensor& src = state.at(name);
    if (src.sizes() != dst->sizes()) {
      problems.push_back("'" + name + "' has shape " + shapeString(src.sizes()) +
                         " in the file, the network expects " + shapeString(dst->sizes()));
      continue;
    }
    bool bothFloating = src.is_floating_point() && dst->is_floating_point();
    if (src.scalar_type() != dst->scalar_type() && !(bothFloating && options.castFloating)) {
      problems.push_back("'" + name + "' is " + dtypeName(src.scalar_type()) +
                         " in the file, the network expects " + dtypeName(dst->scalar_type()));
      continue;
    }
    if (options.checkFinite && src.is_floating_point() && !torch::isfinite(src).all().item<bool>())
      problems.push_back("'" + name + "' contains NaN or Inf values");
  }
  std::set<std::string> filled;
  for (const auto& r : renamed) filled.insert(r.second);
  for (const std::string& name : expected.names()) {
    if (skipped(name, options.skip) || state.find(name) || filled.count(name)) continue;
    // Files from BatchNorm version 1 lack the step counter; PyTorch keeps the module's value too.
    if (support::endsWith(name, ".num_batches_tracked") || name == "num_batches_tracked") continue;
    missing.push_back(name);
  }
  std::string message;
  if (!problems.empty()) {
    for (const std::string& p : problems) message += "\n  " + p;
  }
  if (options.strict && !missing.empty())
    message += "\n  missing from the file (" + std::to_string(missing.size()) + "): " + describeList(missing);
  if (options.strict && !unexpected.empty())
    message +=
        "\n  not in the network (" + std::to_string(unexpected.size()) + "): " + describeList(unexpected);
  if (!message.empty()) throw UserError("weights '" + source + "' do not fit the network:" + message);

  torch::NoGradGuard noGrad;
  for (const std::string& name : state.names()) {
    if (skipped(name, options.skip)) continue;
    auto r = renamed.find(name);
    if (const torch::Tensor* dst = expected.find(r == renamed.end() ? name : r->second))
      dst->copy_(state.at(name));
  }
}

} // namespace mhr::runtime
