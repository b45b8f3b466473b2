// tracker/param_value.cpp — see param_value.h.
#include "tracker/param_value.h"

#include "support/strings.h"

#include <cstdlib>

namespace mhr::tracker {

std::string paramText(const runtime::ParamValue& value) {
  if (auto b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  if (auto i = std::get_if<int64_t>(&value)) return std::to_string(*i);
  if (auto d = std::get_if<double>(&value)) return support::formatNumber(*d);
  return std::get<std::string>(value);
}

const char* paramTypeName(const runtime::ParamValue& value) {
  switch (value.index()) {
  case 0:
    return "bool";
  case 1:
    return "int";
  case 2:
    return "float";
  default:
    return "string";
  }
}

std::optional<double> paramNumber(const runtime::ParamValue& value) {
  if (auto b = std::get_if<bool>(&value)) return *b ? 1.0 : 0.0;
  if (auto i = std::get_if<int64_t>(&value)) return static_cast<double>(*i);
  if (auto d = std::get_if<double>(&value)) return *d;
  return std::nullopt;
}

runtime::ParamValue paramFromRow(const std::string& type, const std::string& text) {
  if (type == "bool") return text == "true";
  if (type == "int") return static_cast<int64_t>(std::strtoll(text.c_str(), nullptr, 10));
  if (type == "float") return std::strtod(text.c_str(), nullptr);
  return text;
}

} // namespace mhr::tracker
