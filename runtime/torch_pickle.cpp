#include "runtime/torch_pickle.h"

#include "support/assert.h"
#include "support/error.h"

#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <unordered_map>

namespace mhr::runtime {
namespace {

// ---- The object model: just enough of Python's to rebuild a state dict.
// -------------------------------------

struct Obj;
using ObjPtr = std::shared_ptr<Obj>;

struct Obj {
  enum class Kind { None, Bool, Int, Float, Str, Tuple, List, Dict, Global, Storage, Tensor };
  Kind kind = Kind::None;
  bool boolean = false;
  int64_t integer = 0;
  double number = 0;
  std::string text;                               // Str; Global: "module.name"
  std::vector<ObjPtr> items;                      // Tuple, List
  std::vector<std::pair<ObjPtr, ObjPtr>> entries; // Dict (insertion order)
  torch::Tensor tensor;                           // Storage (1-D) or Tensor
  torch::ScalarType dtype = torch::kFloat; // Storage's element type; Global naming a dtype or a storage type
};

const char* kindName(Obj::Kind k) {
  switch (k) {
  case Obj::Kind::None:
    return "None";
  case Obj::Kind::Bool:
    return "bool";
  case Obj::Kind::Int:
    return "int";
  case Obj::Kind::Float:
    return "float";
  case Obj::Kind::Str:
    return "str";
  case Obj::Kind::Tuple:
    return "tuple";
  case Obj::Kind::List:
    return "list";
  case Obj::Kind::Dict:
    return "dict";
  case Obj::Kind::Global:
    return "global";
  case Obj::Kind::Storage:
    return "storage";
  case Obj::Kind::Tensor:
    return "tensor";
  }
  return "?";
}

ObjPtr make(Obj::Kind k) {
  auto o = std::make_shared<Obj>();
  o->kind = k;
  return o;
}

// The storage classes torch.save names in persistent ids, and the dtypes it names as globals.
const std::map<std::string, torch::ScalarType>& storageTypes() {
  static const std::map<std::string, torch::ScalarType> m = {
      {"torch.FloatStorage", torch::kFloat},  {"torch.DoubleStorage", torch::kDouble},
      {"torch.HalfStorage", torch::kHalf},    {"torch.BFloat16Storage", torch::kBFloat16},
      {"torch.LongStorage", torch::kLong},    {"torch.IntStorage", torch::kInt},
      {"torch.ShortStorage", torch::kShort},  {"torch.CharStorage", torch::kChar},
      {"torch.ByteStorage", torch::kByte},    {"torch.BoolStorage", torch::kBool},
      {"torch.UntypedStorage", torch::kByte}, {"torch.storage.UntypedStorage", torch::kByte},
  };
  return m;
}

const std::map<std::string, torch::ScalarType>& dtypeGlobals() {
  static const std::map<std::string, torch::ScalarType> m = {
      {"torch.float32", torch::kFloat},     {"torch.float", torch::kFloat},
      {"torch.float64", torch::kDouble},    {"torch.double", torch::kDouble},
      {"torch.float16", torch::kHalf},      {"torch.half", torch::kHalf},
      {"torch.bfloat16", torch::kBFloat16}, {"torch.int64", torch::kLong},
      {"torch.long", torch::kLong},         {"torch.int32", torch::kInt},
      {"torch.int", torch::kInt},           {"torch.int16", torch::kShort},
      {"torch.int8", torch::kChar},         {"torch.uint8", torch::kByte},
      {"torch.bool", torch::kBool},
  };
  return m;
}

bool isUntyped(const std::string& storageGlobal) {
  return storageGlobal == "torch.UntypedStorage" || storageGlobal == "torch.storage.UntypedStorage";
}

// The callables the REDUCE opcode may call. Everything else is refused when the GLOBAL is read.
const std::vector<std::string>& callables() {
  static const std::vector<std::string> v = {
      "collections.OrderedDict",
      "torch._utils._rebuild_tensor_v2",
      "torch._utils._rebuild_tensor_v3",
      "torch._utils._rebuild_parameter",
      "torch._utils._rebuild_parameter_with_state",
  };
  return v;
}

class Unpickler {
public:
  Unpickler(std::string_view data, const StorageLoader& loader, const std::string& displayName)
      : data_(data), loader_(loader), displayName_(displayName) {}

  ObjPtr run() {
    while (true) {
      if (pos_ >= data_.size()) fail("the pickle ends without STOP (truncated?)");
      size_t at = pos_;
      auto op = static_cast<unsigned char>(data_[pos_++]);
      switch (op) {
      case 0x80: { // PROTO
        uint8_t proto = u8();
        if (proto > 5) fail("unsupported pickle protocol " + std::to_string(proto));
        break;
      }
      case 0x95: // FRAME: an 8-byte length hint, the frame's opcodes follow inline
        bytes(8);
        break;
      case '.': { // STOP
        if (stack_.size() != 1 || !marks_.empty()) fail("the pickle stops with a malformed stack");
        return stack_.back();
      }
      case '(':
        marks_.push_back(stack_.size());
        break; // MARK
      case ')':
        push(make(Obj::Kind::Tuple));
        break; // EMPTY_TUPLE
      case ']':
        push(make(Obj::Kind::List));
        break; // EMPTY_LIST
      case '}':
        push(make(Obj::Kind::Dict));
        break; // EMPTY_DICT
      case 'N':
        push(make(Obj::Kind::None));
        break; // NONE
      case 0x88:
        push(boolean(true));
        break; // NEWTRUE
      case 0x89:
        push(boolean(false));
        break; // NEWFALSE
      case 'K':
        push(integer(u8()));
        break; // BININT1
      case 'M':
        push(integer(le(2)));
        break; // BININT2
      case 'J':
        push(integer(static_cast<int32_t>(le(4))));
        break; // BININT
      case 0x8a:
        push(integer(longInt(u8())));
        break; // LONG1
      case 0x8b:
        push(integer(longInt(le(4))));
        break;    // LONG4
      case 'G': { // BINFLOAT: big-endian IEEE double
        std::string_view b = bytes(8);
        uint64_t bits = 0;
        for (char c : b) bits = (bits << 8) | static_cast<unsigned char>(c);
        double d;
        std::memcpy(&d, &bits, 8);
        auto o = make(Obj::Kind::Float);
        o->number = d;
        push(o);
        break;
      }
      case 'X':
        push(str(bytes(le(4))));
        break; // BINUNICODE
      case 0x8c:
        push(str(bytes(u8())));
        break; // SHORT_BINUNICODE
      case 0x8d:
        push(str(bytes(le(8))));
        break; // BINUNICODE8
      case 'T':
        push(str(bytes(le(4))));
        break; // BINSTRING (protocol 1 str)
      case 'U':
        push(str(bytes(u8())));
        break; // SHORT_BINSTRING
      case 'B':
        push(str(bytes(le(4))));
        break; // BINBYTES
      case 'C':
        push(str(bytes(u8())));
        break; // SHORT_BINBYTES
      case 'q':
        memo_[u8()] = top();
        break; // BINPUT
      case 'r':
        memo_[static_cast<uint32_t>(le(4))] = top();
        break; // LONG_BINPUT
      case 0x94:
        memo_[static_cast<uint32_t>(memo_.size())] = top();
        break; // MEMOIZE
      case 'h':
        push(memoGet(u8()));
        break; // BINGET
      case 'j':
        push(memoGet(static_cast<uint32_t>(le(4))));
        break;    // LONG_BINGET
      case 't': { // TUPLE
        auto o = make(Obj::Kind::Tuple);
        o->items = popToMark();
        push(o);
        break;
      }
      case 0x85:
      case 0x86:
      case 0x87: { // TUPLE1..3
        size_t n = op - 0x84u;
        if (stack_.size() < n + floor()) fail("tuple of " + std::to_string(n) + " on a short stack");
        auto o = make(Obj::Kind::Tuple);
        o->items.assign(stack_.end() - static_cast<long>(n), stack_.end());
        stack_.resize(stack_.size() - n);
        push(o);
        break;
      }
      case 'l': { // LIST
        auto o = make(Obj::Kind::List);
        o->items = popToMark();
        push(o);
        break;
      }
      case 'a': { // APPEND
        ObjPtr v = pop();
        expect(top(), Obj::Kind::List, "APPEND")->items.push_back(v);
        break;
      }
      case 'e': { // APPENDS
        auto vs = popToMark();
        auto& list = expect(top(), Obj::Kind::List, "APPENDS")->items;
        list.insert(list.end(), vs.begin(), vs.end());
        break;
      }
      case 'd': { // DICT
        auto vs = popToMark();
        if (vs.size() % 2) fail("DICT with an odd number of items");
        auto o = make(Obj::Kind::Dict);
        for (size_t i = 0; i < vs.size(); i += 2) o->entries.emplace_back(vs[i], vs[i + 1]);
        push(o);
        break;
      }
      case 's': { // SETITEM
        ObjPtr v = pop();
        ObjPtr k = pop();
        expect(top(), Obj::Kind::Dict, "SETITEM")->entries.emplace_back(k, v);
        break;
      }
      case 'u': { // SETITEMS
        auto vs = popToMark();
        if (vs.size() % 2) fail("SETITEMS with an odd number of items");
        auto& d = expect(top(), Obj::Kind::Dict, "SETITEMS")->entries;
        for (size_t i = 0; i < vs.size(); i += 2) d.emplace_back(vs[i], vs[i + 1]);
        break;
      }
      case 'c': { // GLOBAL "module\nname\n"
        std::string module = line();
        std::string name = line();
        push(global(module + "." + name));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        ObjPtr name = pop();
        ObjPtr module = pop();
        if (name->kind != Obj::Kind::Str || module->kind != Obj::Kind::Str)
          fail("STACK_GLOBAL needs two strings");
        push(global(module->text + "." + name->text));
        break;
      }
      case 'Q': { // BINPERSID: a storage record of the zip archive
        push(storage(pop()));
        break;
      }
      case 'R': { // REDUCE
        ObjPtr args = pop();
        ObjPtr fn = pop();
        push(reduce(fn, args));
        break;
      }
      case 'b': { // BUILD: an OrderedDict's attributes (state_dict()._metadata); kept out of the result
        ObjPtr state = pop();
        ObjPtr target = top();
        if (target->kind != Obj::Kind::Dict && target->kind != Obj::Kind::Tensor)
          fail(std::string("BUILD on a ") + kindName(target->kind));
        break;
      }
      case '0':
        pop();
        break; // POP
      case '2':
        push(top());
        break; // DUP
      case '1':
        popToMark();
        break; // POP_MARK
      default: {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", op);
        fail(std::string("unsupported pickle opcode ") + hex + " at byte " + std::to_string(at) +
             " (mhr reads plain state dicts only)");
      }
      }
    }
  }

private:
  [[noreturn]] void fail(const std::string& why) const {
    throw UserError("'" + displayName_ + "': cannot read the state dict: " + why);
  }

  // --- raw reads, all bounds checked ---
  std::string_view bytes(uint64_t n) {
    if (n > data_.size() - pos_) fail("the pickle is truncated");
    std::string_view v = data_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  uint8_t u8() { return static_cast<uint8_t>(bytes(1)[0]); }
  uint64_t le(int n) {
    std::string_view b = bytes(static_cast<uint64_t>(n));
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[static_cast<size_t>(i)]);
    return v;
  }
  int64_t longInt(uint64_t n) { // two's complement little-endian, at most 8 bytes
    if (n > 8) fail("integer wider than 64 bits");
    if (n == 0) return 0;
    std::string_view b = bytes(n);
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;) v = (v << 8) | static_cast<unsigned char>(b[i]);
    if (n < 8 && (static_cast<unsigned char>(b[n - 1]) & 0x80)) v |= ~uint64_t{0} << (8 * n);
    return static_cast<int64_t>(v);
  }
  std::string line() {
    size_t end = data_.find('\n', pos_);
    if (end == std::string_view::npos || end - pos_ > 256) fail("malformed GLOBAL");
    std::string s(data_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }

  // --- stack ---
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  void push(ObjPtr o) {
    if (stack_.size() > kMaxStack) fail("the pickle's stack is too deep");
    stack_.push_back(std::move(o));
  }
  ObjPtr pop() {
    if (stack_.size() <= floor()) fail("pop from an empty stack");
    ObjPtr o = std::move(stack_.back());
    stack_.pop_back();
    return o;
  }
  ObjPtr top() {
    if (stack_.size() <= floor()) fail("empty stack");
    return stack_.back();
  }
  std::vector<ObjPtr> popToMark() {
    if (marks_.empty()) fail("no MARK on the stack");
    size_t m = marks_.back();
    marks_.pop_back();
    std::vector<ObjPtr> v(stack_.begin() + static_cast<long>(m), stack_.end());
    stack_.resize(m);
    return v;
  }
  ObjPtr memoGet(uint32_t key) {
    auto it = memo_.find(key);
    if (it == memo_.end()) fail("reference to an unknown memo entry");
    return it->second;
  }
  ObjPtr expect(const ObjPtr& o, Obj::Kind k, const char* op) {
    if (o->kind != k) fail(std::string(op) + " on a " + kindName(o->kind));
    return o;
  }

  // --- values ---
  static ObjPtr boolean(bool b) {
    auto o = make(Obj::Kind::Bool);
    o->boolean = b;
    return o;
  }
  static ObjPtr integer(int64_t i) {
    auto o = make(Obj::Kind::Int);
    o->integer = i;
    return o;
  }
  static ObjPtr str(std::string_view s) {
    auto o = make(Obj::Kind::Str);
    o->text = std::string(s);
    return o;
  }

  ObjPtr global(const std::string& name) {
    auto o = make(Obj::Kind::Global);
    o->text = name;
    if (auto it = storageTypes().find(name); it != storageTypes().end()) {
      o->dtype = it->second;
      return o;
    }
    if (auto it = dtypeGlobals().find(name); it != dtypeGlobals().end()) {
      o->dtype = it->second;
      return o;
    }
    for (const std::string& c : callables())
      if (c == name) return o;
    fail("the file refers to '" + name +
         "', which a plain state dict does not contain; mhr loads tensors only and runs no code from weight "
         "files (save `model.state_dict()` with torch.save, or export safetensors)");
  }

  int64_t asInt(const ObjPtr& o, const char* what) {
    if (o->kind != Obj::Kind::Int) fail(std::string(what) + " is a " + kindName(o->kind) + ", not an int");
    return o->integer;
  }

  // Persistent id ('storage', storage_type, key, location, numel) -> the storage's bytes as a 1-D tensor.
  ObjPtr storage(const ObjPtr& pid) {
    if (pid->kind != Obj::Kind::Tuple || pid->items.size() != 5 || pid->items[0]->kind != Obj::Kind::Str ||
        pid->items[0]->text != "storage")
      fail("unsupported persistent id (expected ('storage', type, key, location, numel))");
    const ObjPtr& type = pid->items[1];
    if (type->kind != Obj::Kind::Global || !storageTypes().count(type->text))
      fail("persistent id names no storage type");
    if (pid->items[2]->kind != Obj::Kind::Str) fail("storage key is not a string");
    const std::string& key = pid->items[2]->text;
    int64_t numel = asInt(pid->items[4], "storage size");
    if (numel < 0) fail("negative storage size");
    auto it = storages_.find(key);
    if (it != storages_.end()) {
      if (it->second->dtype != type->dtype || it->second->tensor.numel() != numel)
        fail("storage '" + key + "' is declared twice with different types or sizes");
      return it->second;
    }
    auto o = make(Obj::Kind::Storage);
    o->dtype = type->dtype;
    o->text = type->text;
    o->tensor = loader_(key, type->dtype, numel);
    MHR_ASSERT(o->tensor.numel() == numel && o->tensor.scalar_type() == type->dtype,
               "storage loader broke contract");
    storages_[key] = o;
    return o;
  }

  std::vector<int64_t> intTuple(const ObjPtr& o, const char* what) {
    if (o->kind != Obj::Kind::Tuple) fail(std::string(what) + " is not a tuple");
    if (o->items.size() > 64) fail(std::string(what) + " has more than 64 dimensions");
    std::vector<int64_t> v;
    for (const ObjPtr& i : o->items) v.push_back(asInt(i, what));
    return v;
  }

  // torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...), bounds checked against the storage.
  ObjPtr rebuildTensor(const ObjPtr& args, bool v3) {
    size_t minArgs = v3 ? 7 : 4;
    if (args->items.size() < minArgs) fail("tensor record with too few fields");
    const ObjPtr& st = args->items[0];
    if (st->kind != Obj::Kind::Storage) fail("tensor record without a storage");
    int64_t offset = asInt(args->items[1], "storage offset");
    std::vector<int64_t> size = intTuple(args->items[2], "tensor size");
    std::vector<int64_t> stride = intTuple(args->items[3], "tensor stride");
    if (size.size() != stride.size()) fail("tensor size and stride differ in length");

    torch::Tensor base = st->tensor;
    if (v3 || isUntyped(st->text)) {
      // An untyped storage holds bytes; the element type comes from the record (v3) or must be bytes.
      torch::ScalarType dtype = torch::kByte;
      if (v3) {
        const ObjPtr& d = args->items[6];
        if (d->kind != Obj::Kind::Global || !dtypeGlobals().count(d->text))
          fail("tensor record with no dtype");
        dtype = d->dtype;
      }
      if (base.scalar_type() != torch::kByte && base.scalar_type() != dtype)
        fail("typed storage used with another dtype");
      if (base.scalar_type() == torch::kByte && dtype != torch::kByte) {
        int64_t item = static_cast<int64_t>(c10::elementSize(dtype));
        if (base.numel() % item) fail("untyped storage size is not a multiple of the element size");
        base = base.view(dtype);
      }
    }

    int64_t numel = 1;
    int64_t last = offset; // highest element index touched
    if (offset < 0) fail("negative storage offset");
    for (size_t i = 0; i < size.size(); ++i) {
      if (size[i] < 0 || stride[i] < 0) fail("negative tensor size or stride");
      if (size[i] != 0 && numel > std::numeric_limits<int64_t>::max() / size[i])
        fail("tensor size overflows");
      numel *= size[i];
    }
    if (numel > 0) {
      for (size_t i = 0; i < size.size(); ++i) {
        int64_t span = 0;
        if (__builtin_mul_overflow(size[i] - 1, stride[i], &span) ||
            __builtin_add_overflow(last, span, &last))
          fail("tensor extent overflows");
      }
      if (last >= base.numel())
        fail("tensor extends past its storage (" + std::to_string(last + 1) + " > " +
             std::to_string(base.numel()) + " elements)");
    }
    auto o = make(Obj::Kind::Tensor);
    o->tensor = base.as_strided(size, stride, offset);
    return o;
  }

  ObjPtr reduce(const ObjPtr& fn, const ObjPtr& args) {
    if (fn->kind != Obj::Kind::Global) fail(std::string("REDUCE on a ") + kindName(fn->kind));
    if (args->kind != Obj::Kind::Tuple) fail("REDUCE without an argument tuple");
    const std::string& name = fn->text;
    if (name == "collections.OrderedDict") {
      auto d = make(Obj::Kind::Dict);
      if (args->items.size() == 1 && args->items[0]->kind == Obj::Kind::List) {
        for (const ObjPtr& pair : args->items[0]->items) {
          if (pair->kind != Obj::Kind::Tuple || pair->items.size() != 2)
            fail("OrderedDict item is not a pair");
          d->entries.emplace_back(pair->items[0], pair->items[1]);
        }
      } else if (!args->items.empty()) {
        fail("OrderedDict built from unsupported arguments");
      }
      return d;
    }
    if (name == "torch._utils._rebuild_tensor_v2") return rebuildTensor(args, false);
    if (name == "torch._utils._rebuild_tensor_v3") return rebuildTensor(args, true);
    if (name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state") {
      if (args->items.empty() || args->items[0]->kind != Obj::Kind::Tensor)
        fail("parameter record without data");
      return args->items[0];
    }
    fail("'" + name + "' cannot be called here");
  }

  static constexpr size_t kMaxStack = 1u << 22;
  std::string_view data_;
  size_t pos_ = 0;
  const StorageLoader& loader_;
  const std::string& displayName_;
  std::vector<ObjPtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint32_t, ObjPtr> memo_;
  std::map<std::string, ObjPtr> storages_;
};

void flatten(const ObjPtr& dict, const std::string& prefix, int depth, StateDict& out,
             const std::string& displayName) {
  if (depth > 8)
    throw UserError("'" + displayName + "': dicts nested more than 8 deep (or a dict that contains itself)");
  for (const auto& [k, v] : dict->entries) {
    if (k->kind != Obj::Kind::Str)
      throw UserError("'" + displayName + "': a key of the state dict is a " + kindName(k->kind) +
                      ", not a string");
    std::string name = prefix.empty() ? k->text : prefix + "." + k->text;
    if (v->kind == Obj::Kind::Tensor) {
      out.add(name, v->tensor);
    } else if (v->kind == Obj::Kind::Dict) {
      flatten(v, name, depth + 1, out, displayName);
    } else {
      throw UserError("'" + displayName + "': entry '" + name + "' is a " + kindName(v->kind) +
                      ", not a tensor; mhr reads plain state dicts (save `model.state_dict()`)");
    }
  }
}

// ---- Writer
// ------------------------------------------------------------------------------------------------

class Pickler {
public:
  void proto() {
    out_.push_back('\x80');
    out_.push_back('\x02');
  }
  void op(char c) { out_.push_back(c); }
  void global(const std::string& module, const std::string& name) {
    out_ += "c" + module + "\n" + name + "\n";
  }
  void string(const std::string& s) {
    out_.push_back('X');
    putLe(s.size(), 4);
    out_ += s;
  }
  void integer(int64_t v) {
    if (v >= std::numeric_limits<int32_t>::min() && v <= std::numeric_limits<int32_t>::max()) {
      out_.push_back('J');
      putLe(static_cast<uint32_t>(static_cast<int32_t>(v)), 4);
    } else {
      out_.push_back('\x8a'); // LONG1, 8 bytes two's complement
      out_.push_back('\x08');
      putLe(static_cast<uint64_t>(v), 8);
    }
  }
  void intTuple(torch::IntArrayRef values) {
    if (values.empty()) {
      op(')');
      return;
    }
    op('(');
    for (int64_t v : values) integer(v);
    op('t');
  }
  std::string take() { return std::move(out_); }

private:
  void putLe(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  std::string out_;
};

std::string storageClass(torch::ScalarType t) {
  for (const auto& [name, type] : storageTypes())
    if (type == t && !isUntyped(name)) return name.substr(std::string("torch.").size());
  throw UserError("cannot save a tensor of dtype " + dtypeName(t));
}

} // namespace

StateDict unpickleStateDict(std::string_view pickle, const StorageLoader& loadStorage,
                            const std::string& displayName) {
  Unpickler u(pickle, loadStorage, displayName);
  ObjPtr root = u.run();
  if (root->kind != Obj::Kind::Dict)
    throw UserError("'" + displayName + "' holds a " + kindName(root->kind) + ", not a state dict");
  StateDict out;
  flatten(root, "", 0, out, displayName);
  return out;
}

std::string pickleStateDict(const StateDict& state,
                            std::vector<std::pair<std::string, torch::Tensor>>& storages) {
  Pickler p;
  p.proto();
  p.global("collections", "OrderedDict");
  p.op(')');
  p.op('R');
  p.op('(');
  for (const std::string& name : state.names()) {
    torch::Tensor t = state.at(name).detach().to(torch::kCPU).contiguous();
    std::string key = std::to_string(storages.size());
    storages.emplace_back(key, t);
    p.string(name);
    p.global("torch._utils", "_rebuild_tensor_v2");
    p.op('(');
    // persistent id: ('storage', torch.FloatStorage, key, 'cpu', numel)
    p.op('(');
    p.string("storage");
    p.global("torch", storageClass(t.scalar_type()));
    p.string(key);
    p.string("cpu");
    p.integer(t.numel());
    p.op('t');
    p.op('Q');
    p.integer(0); // storage offset
    p.intTuple(t.sizes());
    p.intTuple(t.strides());
    p.op('\x89');                           // requires_grad False
    p.global("collections", "OrderedDict"); // backward hooks: an empty OrderedDict, as PyTorch writes
    p.op(')');
    p.op('R');
    p.op('t');
    p.op('R');
  }
  p.op('u');
  p.op('.');
  return p.take();
}

} // namespace mhr::runtime
