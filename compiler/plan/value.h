// compiler/plan/value.h — a checked attribute value as the plan carries it to the runtime and data layers:
// plain data, no AST, no source text. Sema has already checked every value against its schema, so consumers
// may rely on the documented kinds (docs/language.md) and need not re-validate types.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mhr::plan {

struct Size {
  int64_t h = 0;
  int64_t w = 0;
  bool operator==(const Size& o) const { return h == o.h && w == o.w; }
  bool operator!=(const Size& o) const { return !(*this == o); }
};

struct Value {
  enum class Kind { None, Bool, Int, Float, String, Symbol, Size, Quantity, List, Call };
  Kind kind = Kind::None;
  bool boolean = false;
  int64_t integer = 0;
  double number = 0;        // Float, and Quantity's magnitude
  std::string text;         // String, Symbol, Quantity's unit ("deg", "GiB", "%"), Call's name
  plan::Size size;          // Size
  std::vector<Value> items; // List elements, Call's positional arguments
  std::vector<std::pair<std::string, Value>> named; // Call's named arguments, in source order

  static Value none() { return Value{}; }
  static Value ofBool(bool b);
  static Value ofInt(int64_t i);
  static Value ofFloat(double f);
  static Value ofString(std::string s);
  static Value ofSymbol(std::string s);
  static Value ofSize(int64_t h, int64_t w);
  static Value ofQuantity(double v, std::string unit);
  static Value ofList(std::vector<Value> items);
  static Value ofCall(std::string name, std::vector<Value> positional,
                      std::vector<std::pair<std::string, Value>> named);

  bool isNone() const { return kind == Kind::None; }
  bool isNumber() const { return kind == Kind::Int || kind == Kind::Float; }
  double asDouble() const; // Int, Float or Quantity magnitude
  // A named argument of a Call (nullptr when absent); for a Symbol, nullptr.
  const Value* arg(const std::string& name) const;
  // The Call's name or the Symbol itself: `relu` and `relu()` both name "relu".
  const std::string& callee() const { return text; }

  // Canonical text form, e.g. `sgd(lr: 0.05, momentum: 0.9)`, `[hflip, rotate(15deg)]`, `512x416`.
  std::string str() const;
  bool operator==(const Value& o) const;
  bool operator!=(const Value& o) const { return !(*this == o); }
};

using Attrs = std::vector<std::pair<std::string, Value>>;
// The value of `key` in attrs, or nullptr.
const Value* findAttr(const Attrs& attrs, const std::string& key);

} // namespace mhr::plan
