#include "compiler/cost/checkpoint.h"

#include <algorithm>
#include <limits>
#include <set>

namespace mhr::cost {

std::vector<ir::NodeId> cutPoints(const ir::Graph& g) {
  const ir::NodeId n = static_cast<ir::NodeId>(g.size());
  std::vector<ir::NodeId> lastUse(g.size());
  for (ir::NodeId id = 0; id < n; ++id) {
    lastUse[static_cast<size_t>(id)] = id == g.outputId() ? n : id;
    for (ir::NodeId u : g.usersOf(id))
      lastUse[static_cast<size_t>(id)] = std::max(lastUse[static_cast<size_t>(id)], u);
  }
  std::vector<ir::NodeId> cuts;
  // live: tensors produced at or before p and read after p. Sweep p and count them.
  std::vector<int> endsAt(g.size() + 1, 0);
  int live = 0;
  for (ir::NodeId p = 0; p < n; ++p) {
    if (lastUse[static_cast<size_t>(p)] > p) {
      ++live;
      ++endsAt[static_cast<size_t>(lastUse[static_cast<size_t>(p)])];
    }
    live -= endsAt[static_cast<size_t>(p)];
    // After node p: the tensors still needed are those with lastUse > p; p's own output must be the only one.
    if (live == 1 && lastUse[static_cast<size_t>(p)] > p && p != g.outputId()) cuts.push_back(p);
  }
  return cuts;
}

namespace {

struct Unit {
  ir::NodeId first, last;  // nodes (cut, next cut]
  int64_t storedBytes = 0; // what its nodes save, per image
  int64_t inputBytes = 0;  // its input tensor (the cut before it), per image
  int64_t macs = 0;
};

struct Candidate {
  std::vector<Segment> segments;
  MemoryEstimate memory;
  int64_t recompute = 0;
};

} // namespace

CheckpointPlan planCheckpoints(const ir::Graph& g, const NetworkCost& cost, TrainingSetup setup,
                               CheckpointPolicy policy, int64_t budgetBytes) {
  setup.segments.clear();
  auto evaluate = [&](std::vector<Segment> segments) {
    Candidate c;
    TrainingSetup s = setup;
    s.segments = segments;
    c.memory = trainingMemory(g, cost, s);
    for (const Segment& seg : segments)
      for (ir::NodeId id = seg.first; id <= seg.last; ++id)
        c.recompute += cost.nodes[static_cast<size_t>(id)].macs;
    c.segments = std::move(segments);
    return c;
  };
  auto finish = [&](Candidate c) {
    CheckpointPlan p;
    p.segments = std::move(c.segments);
    p.memory = c.memory;
    p.recomputeMacs = c.recompute;
    p.fits = budgetBytes <= 0 || p.memory.totalBytes() <= budgetBytes;
    return p;
  };

  Candidate none = evaluate({});
  if (policy == CheckpointPolicy::Off) return finish(none);

  // Units between consecutive cut points (the last one runs to the end of the graph).
  const std::vector<ir::NodeId> cuts = cutPoints(g);
  const int64_t eb = activationElementBytes(setup.precision);
  std::vector<Unit> units;
  for (size_t k = 0; k < cuts.size(); ++k) {
    Unit u;
    u.first = cuts[k] + 1;
    u.last = k + 1 < cuts.size() ? cuts[k + 1] : static_cast<ir::NodeId>(g.size()) - 1;
    if (u.first > u.last) continue;
    std::set<ir::NodeId> saved;
    for (ir::NodeId id = u.first; id <= u.last; ++id) {
      const NodeCost& nc = cost.nodes[static_cast<size_t>(id)];
      saved.insert(nc.savedOutputs.begin(), nc.savedOutputs.end());
      u.storedBytes += nc.extraBytesPerImage;
      u.macs += nc.macs;
    }
    for (ir::NodeId t : saved)
      if (g.node(t).op != ir::OpKind::Input)
        u.storedBytes += eb * cost.shapes[static_cast<size_t>(t)].numel();
    u.inputBytes =
        g.node(cuts[k]).op == ir::OpKind::Input ? 0 : eb * cost.shapes[static_cast<size_t>(cuts[k])].numel();
    units.push_back(u);
  }
  if (units.empty()) return finish(none);
  if (policy == CheckpointPolicy::Auto && (budgetBytes <= 0 || none.memory.totalBytes() <= budgetBytes))
    return finish(none);

  // internal(k, l): what units k..l save, recomputed at once when they form one segment.
  const size_t U = units.size();
  std::vector<std::vector<int64_t>> internal(U, std::vector<int64_t>(U, 0));
  std::vector<int64_t> caps;
  for (size_t k = 0; k < U; ++k) {
    int64_t sum = 0;
    for (size_t l = k; l < U; ++l) {
      sum += units[l].storedBytes;
      internal[k][l] = sum;
      caps.push_back(sum);
    }
  }
  std::sort(caps.begin(), caps.end());
  caps.erase(std::unique(caps.begin(), caps.end()), caps.end());

  // For each cap T on a recomputed segment, the grouping with the least kept bytes (ties: fewer recomputed
  // MACs): best[l] over prefixes of units, each group stored whole or checkpointed (keeping only its input).
  std::vector<Candidate> candidates;
  std::set<std::vector<std::pair<ir::NodeId, ir::NodeId>>> seen;
  for (int64_t cap : caps) {
    const int64_t inf = std::numeric_limits<int64_t>::max() / 4;
    std::vector<std::pair<int64_t, int64_t>> best(U + 1, {inf, inf}); // (bytes, macs)
    std::vector<std::pair<size_t, bool>> from(U + 1, {0, false});
    best[0] = {0, 0};
    for (size_t l = 0; l < U; ++l)
      for (size_t k = 0; k <= l; ++k) {
        if (best[k].first == inf) continue;
        int64_t macs = 0;
        for (size_t i = k; i <= l; ++i) macs += units[i].macs;
        const std::pair<int64_t, int64_t> stored = {best[k].first + internal[k][l], best[k].second};
        if (stored < best[l + 1]) {
          best[l + 1] = stored;
          from[l + 1] = {k, false};
        }
        if (internal[k][l] <= cap) {
          const std::pair<int64_t, int64_t> ck = {best[k].first + units[k].inputBytes, best[k].second + macs};
          if (ck < best[l + 1]) {
            best[l + 1] = ck;
            from[l + 1] = {k, true};
          }
        }
      }
    std::vector<Segment> segments;
    for (size_t l = U; l > 0;) {
      auto [k, ck] = from[l];
      if (ck) segments.push_back({units[k].first, units[l - 1].last});
      l = k;
    }
    std::reverse(segments.begin(), segments.end());
    std::vector<std::pair<ir::NodeId, ir::NodeId>> key;
    for (const Segment& s : segments) key.push_back({s.first, s.last});
    if (!seen.insert(key).second) continue;
    candidates.push_back(evaluate(segments));
  }
  const Candidate* least = &none;
  for (const Candidate& c : candidates)
    if (c.memory.totalBytes() < least->memory.totalBytes()) least = &c;
  if (policy == CheckpointPolicy::All) return finish(*least);
  const Candidate* pick = nullptr;
  for (const Candidate& c : candidates) {
    if (c.memory.totalBytes() > budgetBytes) continue;
    if (!pick || c.recompute < pick->recompute ||
        (c.recompute == pick->recompute && c.memory.totalBytes() < pick->memory.totalBytes()))
      pick = &c;
  }
  if (!pick) pick = least;
  return finish(pick ? *pick : none);
}

} // namespace mhr::cost
