#include "compiler/cost/cost_report.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mhr::cost {

std::optional<CostReport> costReport(const std::string& network, const ir::Graph& graph, int64_t height,
                                     int64_t width, const TrainingSetup& setup, CheckpointPolicy policy,
                                     int64_t budgetBytes, std::string* error) {
  std::optional<NetworkCost> cost = analyze(graph, height, width, error);
  if (!cost) return std::nullopt;
  CostReport r;
  r.network = network;
  r.setup = setup;
  r.policy = policy;
  r.budgetBytes = budgetBytes;
  r.plan = planCheckpoints(graph, *cost, setup, policy, budgetBytes);
  for (const Segment& s : r.plan.segments)
    r.segmentNames.push_back({graph.node(s.first).name, graph.node(s.last).name});
  r.cost = std::move(*cost);
  return r;
}

std::string humanBytes(int64_t bytes) {
  const double b = static_cast<double>(bytes);
  if (b >= 1024.0 * 1024 * 1024) return fmt::format("{:.2f} GiB", b / (1024.0 * 1024 * 1024));
  if (b >= 1024.0 * 1024) return fmt::format("{:.1f} MiB", b / (1024.0 * 1024));
  if (b >= 1024.0) return fmt::format("{:.1f} KiB", b / 1024.0);
  return fmt::format("{} B", bytes);
}

std::string humanCount(int64_t count) {
  const double c = static_cast<double>(count);
  if (c >= 1e9) return fmt::format("{:.2f} G", c / 1e9);
  if (c >= 1e6) return fmt::format("{:.2f} M", c / 1e6);
  if (c >= 1e3) return fmt::format("{:.1f} K", c / 1e3);
  return std::to_string(count);
}

std::string costText(const CostReport& r) {
  const MemoryEstimate& m = r.plan.memory;
  std::string out = fmt::format("network {} at {}x{}\n", r.network, r.cost.height, r.cost.width);
  out += fmt::format("  parameters   {} ({})\n", humanCount(r.cost.parameters),
                     humanBytes(4 * r.cost.parameters));
  out += fmt::format("  MACs/image   {}\n", humanCount(r.cost.macs));
  out += fmt::format("  train step   batch {}, {}, {}, checkpointing {}{}\n", r.setup.batch,
                     plan::name(r.setup.precision), plan::name(r.setup.optimizer), plan::name(r.policy),
                     r.budgetBytes > 0 ? ", budget " + humanBytes(r.budgetBytes) : std::string());
  out += fmt::format("  memory       {} = weights {} + grads {} + optimizer {} + input {} + activations {}",
                     humanBytes(m.totalBytes()), humanBytes(m.parameterBytes), humanBytes(m.gradientBytes),
                     humanBytes(m.optimizerBytes), humanBytes(m.inputBytes), humanBytes(m.activationBytes));
  if (m.recomputeBytes) out += " + recomputed " + humanBytes(m.recomputeBytes);
  out += " + activation grads " + humanBytes(m.activationGradBytes) + "\n";
  if (!r.plan.segments.empty()) {
    out += fmt::format("  checkpoints  {} segment{}, +{:.0f}% forward MACs:", r.plan.segments.size(),
                       r.plan.segments.size() > 1 ? "s" : "",
                       r.cost.macs ? 100.0 * static_cast<double>(r.plan.recomputeMacs) /
                                         static_cast<double>(r.cost.macs)
                                   : 0.0);
    for (size_t i = 0; i < r.segmentNames.size(); ++i) {
      if (i == 6) {
        out += fmt::format(" ... ({} more)", r.segmentNames.size() - 6);
        break;
      }
      out += fmt::format("{} {}..{}", i ? "," : "", r.segmentNames[i].first, r.segmentNames[i].second);
    }
    out += "\n";
  }
  if (!r.plan.fits)
    out += fmt::format("  warning      does not fit the budget of {}\n", humanBytes(r.budgetBytes));
  return out;
}

std::string costJson(const CostReport& r) {
  const MemoryEstimate& m = r.plan.memory;
  nlohmann::json j;
  j["network"] = r.network;
  j["height"] = r.cost.height;
  j["width"] = r.cost.width;
  j["parameters"] = r.cost.parameters;
  j["macs"] = r.cost.macs;
  j["batch"] = r.setup.batch;
  j["precision"] = plan::name(r.setup.precision);
  j["optimizer"] = plan::name(r.setup.optimizer);
  j["checkpointing"] = plan::name(r.policy);
  j["budget_bytes"] = r.budgetBytes;
  j["memory"] = {{"parameters", m.parameterBytes},
                 {"gradients", m.gradientBytes},
                 {"optimizer", m.optimizerBytes},
                 {"input", m.inputBytes},
                 {"saved_at_backward_start", m.savedBytes},
                 {"activations", m.activationBytes},
                 {"recompute", m.recomputeBytes},
                 {"activation_grads", m.activationGradBytes},
                 {"total", m.totalBytes()}};
  j["segments"] = nlohmann::json::array();
  for (const auto& [first, last] : r.segmentNames)
    j["segments"].push_back({{"first", first}, {"last", last}});
  j["recompute_macs"] = r.plan.recomputeMacs;
  j["fits"] = r.plan.fits;
  return j.dump(2);
}

} // namespace mhr::cost
