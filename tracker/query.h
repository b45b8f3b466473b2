// tracker/query.h — the `--where` language of `mhr runs` and its `--sort` and `--columns` lists. In: the
// user's text; out: an SQL boolean expression over `runs r JOIN experiments e` with `?` placeholders plus the
// values to bind (user text never becomes SQL), or an mhr::UserError that shows the expression with a caret
// under the offending token. The language is MLflow's search filter (metrics.x / params.x / tags.x /
// attributes.x, `backticked` or "quoted" names, = != < <= > >= LIKE ILIKE IN) plus OR, NOT, NOT IN,
// BETWEEN, IS [NOT] NULL, parentheses, env.x, and numeric comparison of numeric params.
// docs/tracker.md is the reference.
#pragma once

#include "tracker/sqlite_db.h"

#include <string>
#include <vector>

namespace mhr::tracker {

enum class Entity { Metric, Param, Tag, Attribute, Env };

struct FieldRef {
  Entity entity = Entity::Attribute;
  std::string name;    // metric/param/tag/env key, or the canonical attribute name
  std::string label;   // how the user wrote it, normalised: "metrics.auc", "status"
  size_t position = 0; // byte offset in the text it was parsed from
  size_t length = 0;
};

// An SQL fragment and the values for its `?` placeholders, in order.
struct SqlFragment {
  std::string sql;
  std::vector<SqlValue> params;
};

struct CompiledWhere {
  SqlFragment condition;        // "1" for an empty expression
  std::vector<FieldRef> fields; // every field the expression mentions (for "no run has metric x" warnings)
};

struct SortKey {
  FieldRef field;
  bool descending = false;
};

CompiledWhere compileWhere(const std::string& expression);
// "metrics.auc desc, params.lr" (asc is the default). Empty text: no keys.
std::vector<SortKey> parseSort(const std::string& text);
// "run_id, name, metrics.`auc/Effusion`, params.lr": bare words are run attributes.
std::vector<FieldRef> parseColumns(const std::string& text);

// A scalar SQL expression for the field's value of run `r` (NULL when the run lacks it): what --columns
// shows and --sort orders by. Metrics give their latest value ('nan' for NaN), params their number when
// numeric and text otherwise.
SqlFragment fieldValueSql(const FieldRef& field);

// The run attributes the language knows (for help texts and "did you mean").
std::vector<std::string> attributeNames();

} // namespace mhr::tracker
