#include "compiler/plan/value.h"

#include "support/strings.h"

namespace mhr::plan {

Value Value::ofBool(bool b) {
  Value v;
  v.kind = Kind::Bool;
  v.boolean = b;
  return v;
}
Value Value::ofInt(int64_t i) {
  Value v;
  v.kind = Kind::Int;
  v.integer = i;
  return v;
}
Value Value::ofFloat(double f) {
  Value v;
  v.kind = Kind::Float;
  v.number = f;
  return v;
}
Value Value::ofString(std::string s) {
  Value v;
  v.kind = Kind::String;
  v.text = std::move(s);
  return v;
}
Value Value::ofSymbol(std::string s) {
  Value v;
  v.kind = Kind::Symbol;
  v.text = std::move(s);
  return v;
}
Value Value::ofSize(int64_t h, int64_t w) {
  Value v;
  v.kind = Kind::Size;
  v.size = {h, w};
  return v;
}
Value Value::ofQuantity(double q, std::string unit) {
  Value v;
  v.kind = Kind::Quantity;
  v.number = q;
  v.text = std::move(unit);
  return v;
}
Value Value::ofList(std::vector<Value> items) {
  Value v;
  v.kind = Kind::List;
  v.items = std::move(items);
  return v;
}
Value Value::ofCall(std::string name, std::vector<Value> positional,
                    std::vector<std::pair<std::string, Value>> named) {
  Value v;
  v.kind = Kind::Call;
  v.text = std::move(name);
  v.items = std::move(positional);
  v.named = std::move(named);
  return v;
}

double Value::asDouble() const {
  switch (kind) {
  case Kind::Int:
    return static_cast<double>(integer);
  case Kind::Float:
  case Kind::Quantity:
    return number;
  default:
    return 0.0;
  }
}

const Value* Value::arg(const std::string& name) const {
  if (kind != Kind::Call) return nullptr;
  for (const auto& [k, v] : named)
    if (k == name) return &v;
  return nullptr;
}

std::string Value::str() const {
  switch (kind) {
  case Kind::None:
    return "none";
  case Kind::Bool:
    return boolean ? "true" : "false";
  case Kind::Int:
    return std::to_string(integer);
  case Kind::Float: {
    std::string s = support::formatNumber(number);
    // Keep floats recognisable as floats: 1 -> 1.0
    if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
    return s;
  }
  case Kind::String:
    return support::quoted(text);
  case Kind::Symbol:
    return text;
  case Kind::Size:
    return std::to_string(size.h) + "x" + std::to_string(size.w);
  case Kind::Quantity:
    return support::formatNumber(number) + text;
  case Kind::List: {
    std::string s = "[";
    for (size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + items[i].str();
    return s + "]";
  }
  case Kind::Call: {
    std::string s = text + "(";
    bool first = true;
    for (const auto& p : items) {
      s += (first ? "" : ", ") + p.str();
      first = false;
    }
    for (const auto& [k, v] : named) {
      s += (first ? "" : ", ") + k + ": " + v.str();
      first = false;
    }
    return s + ")";
  }
  }
  return "?";
}

bool Value::operator==(const Value& o) const {
  if (kind != o.kind) return false;
  switch (kind) {
  case Kind::None:
    return true;
  case Kind::Bool:
    return boolean == o.boolean;
  case Kind::Int:
    return integer == o.integer;
  case Kind::Float:
    return number == o.number;
  case Kind::String:
  case Kind::Symbol:
    return text == o.text;
  case Kind::Size:
    return size == o.size;
  case Kind::Quantity:
    return number == o.number && text == o.text;
  case Kind::List:
    return items == o.items;
  case Kind::Call:
    return text == o.text && items == o.items && named == o.named;
  }
  return false;
}

const Value* findAttr(const Attrs& attrs, const std::string& key) {
  for (const auto& [k, v] : attrs)
    if (k == key) return &v;
  return nullptr;
}

} // namespace mhr::plan
