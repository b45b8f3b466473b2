#include "runtime/optimizer.h"

#include "support/assert.h"
#include "support/error.h"

#include <cmath>
#include <map>

namespace mhr::runtime {

bool underPath(const std::string& name, const std::string& prefix) {
  return name == prefix || (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0 &&
                            name[prefix.size()] == '.');
}

double scheduledLr(const plan::ScheduleConfig& s, double lr, int64_t step, int64_t stepsPerEpoch,
                   int64_t totalSteps) {
  const double pi = std::acos(-1.0);
  stepsPerEpoch = std::max<int64_t>(stepsPerEpoch, 1);
  totalSteps = std::max<int64_t>(totalSteps, 1);
  if (s.kind == plan::ScheduleKind::OneCycle) {
    // OneCycleLR(anneal_strategy="cos", three_phase=False): phase ends at pct_start*total - 1 and total - 1.
    const double maxLr = s.maxLr > 0 ? s.maxLr : lr;
    const double initial = maxLr / 25.0, final = initial / 1e4;
    const double end1 = s.pctStart * static_cast<double>(totalSteps) - 1.0;
    const double end2 = static_cast<double>(totalSteps) - 1.0;
    auto cosAnneal = [&](double from, double to, double pct) {
      return to + (from - to) / 2.0 * (std::cos(pi * pct) + 1.0);
    };
    const double t = static_cast<double>(step);
    if (t <= end1) return cosAnneal(initial, maxLr, end1 > 0 ? t / end1 : 1.0);
    return cosAnneal(maxLr, final, end2 > end1 ? (t - end1) / (end2 - end1) : 1.0);
  }
  const int64_t warmSteps =
      static_cast<int64_t>(std::llround(s.warmupEpochs * static_cast<double>(stepsPerEpoch)));
  if (step < warmSteps) {
    const double start = lr / 100.0;
    return start + (lr - start) * static_cast<double>(step) / static_cast<double>(warmSteps);
  }
  if (s.kind == plan::ScheduleKind::Constant) return lr;
  if (s.kind == plan::ScheduleKind::Step) {
    const int64_t epoch = step / stepsPerEpoch;
    return lr * std::pow(s.gamma, static_cast<double>(epoch / std::max<int64_t>(s.stepEvery, 1)));
  }
  // cosine
  const int64_t span = std::max<int64_t>(totalSteps - warmSteps, 1);
  const double t = std::min(1.0, static_cast<double>(step - warmSteps) / static_cast<double>(span));
  return s.minLr + (lr - s.minLr) * (1.0 + std::cos(pi * t)) / 2.0;
}

Optimizer::Optimizer(const plan::OptimizerConfig& config,
                     const std::vector<std::pair<std::string, torch::Tensor>>& named,
                     const std::vector<std::string>& freeze, const std::vector<plan::LrGroup>& groups)
    : config_(config) {
  for (const auto& [name, p] : named) {
    bool frozen = false;
    for (const std::string& f : freeze) frozen |= underPath(name, f);
    if (frozen) {
      p.set_requires_grad(false);
      ++frozen_;
      continue;
    }
    p.set_requires_grad(true);
    double mult = 1.0;
    size_t best = 0;
    for (const plan::LrGroup& g : groups)
      if (underPath(name, g.path) && g.path.size() >= best) {
        best = g.path.size();
        mult = g.multiplier;
      }
    params_.push_back({name, p, mult});
  }
  slots_.resize(params_.size());
}

void Optimizer::zeroGrad() {
  for (ParamEntry& e : params_)
    if (e.param.grad().defined()) {
      // As torch.optim's zero_grad(set_to_none=False) in 1.13: keep the buffer, zero it.
      e.param.mutable_grad().detach_();
      e.param.mutable_grad().zero_();
    }
}

void Optimizer::step(double baseLr) {
  bool foreach = foreach_ == 1;
  if (foreach_ == -1)
    foreach
      = !params_.empty() && params_[0].param.is_cuda();
  if (foreach)
    stepForeach(baseLr);
  else
    stepSingle(baseLr);
}

void Optimizer::stepForeach(double baseLr) {
  torch::NoGradGuard noGrad;
  const double wd = config_.weightDecay;
  // Parameters that share a learning rate (and, for Adam, a step count) update together.
  std::map<std::pair<double, int64_t>, std::vector<size_t>> groups;
  for (size_t i = 0; i < params_.size(); ++i)
    if (params_[i].param.grad().defined())
      groups[{params_[i].lrMultiplier, config_.kind == plan::OptimizerKind::Sgd ? 0 : slots_[i].steps}]
          .push_back(i);
  for (const auto& [key, members] : groups) {
    const double lr = baseLr * key.first;
    std::vector<torch::Tensor> ps, gs;
    for (size_t i : members) {
      ps.push_back(params_[i].param);
      gs.push_back(params_[i].param.grad());
    }
    if (config_.kind == plan::OptimizerKind::Sgd) {
      std::vector<torch::Tensor> d = wd != 0 ? at::_foreach_add(gs, ps, wd) : gs;
      if (config_.momentum != 0) {
        std::vector<torch::Tensor> bufs, fresh;
        for (size_t k = 0; k < members.size(); ++k) {
          Slots& s = slots_[members[k]];
          if (!s.momentum.defined())
            s.momentum = d[k].clone().detach(); // the first step copies, as torch does
          else {
            bufs.push_back(s.momentum);
            fresh.push_back(d[k]);
          }
        }
        if (!bufs.empty()) {
          at::_foreach_mul_(bufs, config_.momentum);
          at::_foreach_add_(bufs, fresh, 1.0);
        }
        std::vector<torch::Tensor> all;
        for (size_t i : members) all.push_back(slots_[i].momentum);
        d = config_.nesterov ? at::_foreach_add(d, all, config_.momentum) : all;
      }
      at::_foreach_add_(ps, d, -lr);
      continue;
    }
    std::vector<torch::Tensor> m, v;
    for (size_t i : members) {
      Slots& s = slots_[i];
      if (!s.expAvg.defined()) {
        s.expAvg = torch::zeros_like(params_[i].param, torch::MemoryFormat::Preserve);
        s.expAvgSq = torch::zeros_like(params_[i].param, torch::MemoryFormat::Preserve);
      }
      s.steps += 1;
      m.push_back(s.expAvg);
      v.push_back(s.expAvgSq);
    }
    const int64_t steps = key.second + 1;
    if (config_.kind == plan::OptimizerKind::AdamW)
      at::_foreach_mul_(ps, 1.0 - lr * wd);
    else if (wd != 0)
      gs = at::_foreach_add(gs, ps, wd);
    at::_foreach_mul_(m, config_.beta1);
    at::_foreach_add_(m, gs, 1.0 - config_.beta1);
    at::_foreach_mul_(v, config_.beta2);
    at::_foreach_addcmul_(v, gs, gs, 1.0 - config_.beta2);
    const double bias1 = 1.0 - std::pow(config_.beta1, static_cast<double>(steps));
    const double bias2 = 1.0 - std::pow(config_.beta2, static_cast<double>(steps));
    std::vector<torch::Tensor> denom = at::_foreach_sqrt(v);
    at::_foreach_div_(denom, std::sqrt(bias2));
    at::_foreach_add_(denom, config_.eps);
    at::_foreach_addcdiv_(ps, m, denom, -lr / bias1);
  }
}

void Optimizer::stepSingle(double baseLr) {
  torch::NoGradGuard noGrad;
  const double wd = config_.weightDecay;
  for (size_t i = 0; i < params_.size(); ++i) {
    torch::Tensor& p = params_[i].param;
    if (!p.grad().defined()) continue;
    const double lr = baseLr * params_[i].lrMultiplier;
    Slots& s = slots_[i];
    torch::Tensor grad = p.grad();
    if (config_.kind == plan::OptimizerKind::Sgd) {
      // torch.optim.SGD (_single_tensor_sgd), dampening 0.
      torch::Tensor d = wd != 0 ? grad.add(p, wd) : grad;
      if (config_.momentum != 0) {
        if (!s.momentum.defined())
          s.momentum = d.clone().detach();
        else
          s.momentum.mul_(config_.momentum).add_(d, 1.0);
        d = config_.nesterov ? d.add(s.momentum, config_.momentum) : s.momentum;
      }
      p.add_(d, -lr);
      continue;
    }
    // torch.optim.Adam / AdamW (_single_tensor_adam, amsgrad off).
    if (!s.expAvg.defined()) {
      s.expAvg = torch::zeros_like(p, torch::MemoryFormat::Preserve);
      s.expAvgSq = torch::zeros_like(p, torch::MemoryFormat::Preserve);
    }
    s.steps += 1;
    if (config_.kind == plan::OptimizerKind::AdamW)
      p.mul_(1.0 - lr * wd);
    else if (wd != 0)
      grad = grad.add(p, wd);
    s.expAvg.mul_(config_.beta1).add_(grad, 1.0 - config_.beta1);
    s.expAvgSq.mul_(config_.beta2).addcmul_(grad, grad, 1.0 - config_.beta2);
    const double bias1 = 1.0 - std::pow(config_.beta1, static_cast<double>(s.steps));
    const double bias2 = 1.0 - std::pow(config_.beta2, static_cast<double>(s.steps));
    const double stepSize = lr / bias1;
    torch::Tensor denom = (s.expAvgSq.sqrt() / std::sqrt(bias2)).add_(config_.eps);
    p.addcdiv_(s.expAvg, denom, -stepSize);
  }
}

StateDict Optimizer::state() const {
  StateDict out;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Slots& s = slots_[i];
    const std::string& n = params_[i].name;
    if (s.momentum.defined()) out.add(n + ".momentum_buffer", s.momentum);
    if (s.expAvg.defined()) {
      out.add(n + ".exp_avg", s.expAvg);
      out.add(n + ".exp_avg_sq", s.expAvgSq);
      out.add(n + ".step", torch::tensor(s.steps, torch::kLong));
    }
  }
  return out;
}

void Optimizer::loadState(const StateDict& state, const std::string& source) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < params_.size(); ++i) index[params_[i].name] = i;
  std::vector<Slots> slots(params_.size());
  for (const std::string& key : state.names()) {
    size_t dot = key.rfind('.');
    std::string param = dot == std::string::npos ? key : key.substr(0, dot);
    std::string slot = dot == std::string::npos ? "" : key.substr(dot + 1);
    // Slots named exp_avg_sq: the last dot splits "x.exp_avg_sq" correctly; nothing else has dots in it.
    auto it = index.find(param);
    if (it == index.end())
      throw UserError("optimizer state in '" + source + "' belongs to '" + param +
                      "', which is not a trained parameter of this stage (was `freeze` changed?)");
    const torch::Tensor& t = state.at(key);
    const torch::Tensor& p = params_[it->second].param;
    Slots& s = slots[it->second];
    if (slot == "step") {
      s.steps = t.item<int64_t>();
      continue;
    }
    if (t.sizes() != p.sizes())
      throw UserError("optimizer state '" + key + "' in '" + source + "' has shape " +
                      shapeString(t.sizes()) + ", the parameter has " + shapeString(p.sizes()));
    torch::Tensor copy = t.to(p.device(), p.scalar_type()).clone();
    if (slot == "momentum_buffer")
      s.momentum = copy;
    else if (slot == "exp_avg")
      s.expAvg = copy;
    else if (slot == "exp_avg_sq")
      s.expAvgSq = copy;
    else
      throw UserError("unknown optimizer state '" + key + "' in '" + source + "'");
  }
  slots_ = std::move(slots);
}

} // namespace mhr::runtime
