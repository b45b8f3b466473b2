// tracker/param_value.h — how a typed param is stored and read back. In: runtime::ParamValue; out: the
// params row's MLflow-compatible text `value`, its `value_type` (bool | int | float | string) and the number
// in `value_num` (NULL for strings), and the reverse. Numbers round-trip exactly (ints as INTEGER, floats as
// the same IEEE double); the text form is the shortest that reads back to the same number.
#pragma once

#include "runtime/metrics_sink.h"

#include <optional>
#include <string>

namespace mhr::tracker {

std::string paramText(const runtime::ParamValue& value);
const char* paramTypeName(const runtime::ParamValue& value);
// nullopt for strings.
std::optional<double> paramNumber(const runtime::ParamValue& value);
// Rebuilds a value from its row's type and text (the text is exact: shortest round-trip form for floats,
// so "nan" and "inf", which value_num cannot hold, come back too).
runtime::ParamValue paramFromRow(const std::string& type, const std::string& text);

} // namespace mhr::tracker
