#include "compiler/verify/verdict_table.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mhr::verify {

namespace {

// "path/to/file.mhr:12:3" -> "12:3" (the table is read next to the file).
std::string lineColumn(const std::string& location) {
  size_t last = location.rfind(':');
  if (last == std::string::npos || last == 0) return location;
  size_t before = location.rfind(':', last - 1);
  return before == std::string::npos ? location : location.substr(before + 1);
}

std::string composedText(const std::vector<plan::MorphStep>& steps, plan::Verdict verdict,
                         plan::ProofMode mode) {
  if (steps.empty()) return "exact (no statements)";
  if (verdict == plan::Verdict::Declared) return "declared (every statement is declared)";
  std::vector<std::string> notes;
  if (verdict == plan::Verdict::Eval)
    notes.push_back("exact in eval mode");
  else if (mode == plan::ProofMode::Eval)
    notes.push_back("in eval mode");
  size_t declared = 0;
  for (const plan::MorphStep& st : steps) declared += st.verdict == plan::Verdict::Declared;
  if (declared)
    notes.push_back(fmt::format("{} declared statement{} excluded", declared, declared > 1 ? "s" : ""));
  std::string s = plan::verdictName(verdict);
  for (size_t i = 0; i < notes.size(); ++i) s += (i ? "; " : " (") + notes[i];
  return notes.empty() ? s : s + ")";
}

} // namespace

std::string verdictTable(const std::string& network, const std::string& parent,
                         const std::vector<plan::MorphStep>& steps, plan::Verdict verdict,
                         plan::ProofMode mode) {
  std::string out =
      fmt::format("network {} = morph {}: {}\n", network, parent, composedText(steps, verdict, mode));
  for (size_t i = 0; i < steps.size(); ++i) {
    const plan::MorphStep& s = steps[i];
    out += fmt::format("  {:>2}. {:<7} {:<11} {:<4} {}\n", i + 1, lineColumn(s.location),
                       plan::verdictName(s.verdict), plan::modeName(s.mode), s.text);
    out += fmt::format("{:30}{}\n", "", s.reason);
  }
  return out;
}

std::string verdictTableJson(const std::string& network, const std::string& parent,
                             const std::vector<plan::MorphStep>& steps, plan::Verdict verdict,
                             plan::ProofMode mode) {
  nlohmann::json j;
  j["network"] = network;
  j["parent"] = parent;
  j["verdict"] = plan::verdictName(verdict);
  j["mode"] = plan::modeName(mode);
  j["steps"] = nlohmann::json::array();
  for (const plan::MorphStep& s : steps) {
    j["steps"].push_back({{"statement", s.text},
                          {"location", s.location},
                          {"kind", plan::morphKindName(s.recipe.kind)},
                          {"verdict", plan::verdictName(s.verdict)},
                          {"mode", plan::modeName(s.mode)},
                          {"reason", s.reason},
                          {"applied", s.recipe.applied},
                          {"seed", s.seed}});
  }
  return j.dump(2);
}

} // namespace mhr::verify
