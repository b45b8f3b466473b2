#include "runtime/distributed.h"

#include "runtime/device.h"
#include "runtime/network.h"
#include "support/assert.h"
#include "support/error.h"

#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if MHR_WITH_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if MHR_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <cstdlib>
#include <mutex>

namespace mhr::runtime {

namespace {

// LibTorch 2.0 split the process group into a front (ProcessGroup) and backends (ProcessGroupGloo and
// ProcessGroupNCCL derive from c10d::Backend); in 1.13 they are ProcessGroups. Both have the collectives we
// call with the same signatures.
#if MHR_TORCH_AT_LEAST(2, 0)
using Group = c10d::Backend;
#else
using Group = c10d::ProcessGroup;
#endif

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

int64_t envInt(const char* name, int64_t fallback, int64_t lo, int64_t hi) {
  std::string v = env(name);
  if (v.empty()) return fallback;
  char* end = nullptr;
  long long x = std::strtoll(v.c_str(), &end, 10);
  if (!end || *end != '\0' || x < lo || x > hi)
    throw UserError(std::string("environment variable ") + name + "='" + v + "': expected an integer from " +
                    std::to_string(lo) + " to " + std::to_string(hi));
  return x;
}

// c10d's errors carry a C++ backtrace in what(); the first line is what a user needs.
std::string firstLine(const std::exception& e) {
  std::string s = e.what();
  if (auto* c = dynamic_cast<const c10::Error*>(&e)) s = c->what_without_backtrace();
  size_t nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

} // namespace

std::optional<DistributedOptions> distributedOptionsFromEnv() {
  if (env("WORLD_SIZE").empty()) return std::nullopt;
  DistributedOptions o;
  o.worldSize = envInt("WORLD_SIZE", 1, 1, 1 << 20);
  if (env("RANK").empty()) throw UserError("WORLD_SIZE is set but RANK is not: both are needed (or neither)");
  o.rank = envInt("RANK", 0, 0, o.worldSize - 1);
  o.localRank = envInt("LOCAL_RANK", o.rank, 0, 1 << 20);
  if (!env("MASTER_ADDR").empty()) o.masterAddr = env("MASTER_ADDR");
  o.port = static_cast<int>(envInt("MASTER_PORT", 29500, 1, 65535));
  o.timeout = std::chrono::milliseconds(envInt("MHR_DIST_TIMEOUT", 300, 1, 7 * 24 * 3600) * 1000);
  o.storeFile = env("MHR_DIST_STORE");
  if (!env("MHR_DIST_BACKEND").empty()) o.backend = env("MHR_DIST_BACKEND");
  if (o.backend != "auto" && o.backend != "gloo" && o.backend != "nccl")
    throw UserError("MHR_DIST_BACKEND='" + o.backend + "': expected auto, gloo or nccl");
  return o;
}

bool distributedAvailable(const std::string& backend) {
  if (backend == "gloo") return MHR_WITH_GLOO != 0;
  if (backend == "nccl") return MHR_WITH_NCCL != 0;
  return false;
}

struct Distributed::Impl {
  DistributedOptions options;
  std::string device, backend;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<Group> group;

  [[noreturn]] void fail(const std::string& what, const std::exception& e) const {
    throw UserError("rank " + std::to_string(options.rank) + " of " + std::to_string(options.worldSize) +
                    ": " + what + " failed (" + firstLine(e) +
                    "); another rank probably stopped — its own message says why");
  }
  void wait(const c10::intrusive_ptr<c10d::Work>& work, const std::string& what) const {
    try {
      work->wait(options.timeout);
    } catch (const std::exception& e) {
      fail(what, e);
    }
  }
};

Distributed::Distributed(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Distributed::~Distributed() = default;

std::shared_ptr<Distributed> Distributed::connect(const DistributedOptions& o,
                                                  const std::string& deviceRequest) {
  if (o.worldSize < 1 || o.rank < 0 || o.rank >= o.worldSize)
    throw UserError("rank " + std::to_string(o.rank) + " is outside world size " +
                    std::to_string(o.worldSize));
  auto impl = std::make_unique<Impl>();
  impl->options = o;
  torch::Device device = chooseDevice(deviceRequest);
  if (device.is_cuda() && (deviceRequest == "auto" || deviceRequest == "cuda")) {
    const int64_t n = static_cast<int64_t>(torch::cuda::device_count());
    if (o.localRank >= n)
      throw UserError("LOCAL_RANK " + std::to_string(o.localRank) + " but only " + std::to_string(n) +
                      " CUDA device(s) are visible on this node");
    device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(o.localRank));
  }
  impl->device = device.str();
  std::string backend = o.backend;
  if (backend == "auto") backend = device.is_cuda() && MHR_WITH_NCCL ? "nccl" : "gloo";
  if (backend == "nccl" && !device.is_cuda())
    throw UserError("the NCCL backend needs a CUDA device (this rank uses " + impl->device + ")");
  if (!distributedAvailable(backend))
    throw UserError("data-parallel training with " + backend + " is not available in this build (" +
                    (backend == "gloo"
                         ? std::string("c10d's Gloo headers were not found at build time: install "
                                       "libgloo-dev, or use a LibTorch that ships them")
                         : std::string("it needs a CUDA LibTorch with c10d's NCCL backend")) +
                    ")");
  if (backend == "gloo" && device.is_cuda())
    throw UserError("this build has no NCCL backend for CUDA tensors; run the data-parallel job on the CPU "
                    "(--device cpu) or build against a CUDA LibTorch with NCCL (docs/distributed.md)");
  impl->backend = backend;

  try {
    if (!o.storeFile.empty()) {
      impl->store = c10::make_intrusive<c10d::FileStore>(o.storeFile, static_cast<int>(o.worldSize));
    } else {
      c10d::TCPStoreOptions so;
      so.port = static_cast<std::uint16_t>(o.port);
      so.isServer = o.rank == 0;
      so.numWorkers = static_cast<std::size_t>(o.worldSize);
      so.waitWorkers = true;
      so.timeout = o.timeout;
      impl->store = c10::make_intrusive<c10d::TCPStore>(o.masterAddr, so);
    }
    impl->store->setTimeout(o.timeout);
  } catch (const std::exception& e) {
    throw UserError("rank " + std::to_string(o.rank) + " of " + std::to_string(o.worldSize) +
                    ": cannot reach the rendezvous store at " +
                    (o.storeFile.empty() ? o.masterAddr + ":" + std::to_string(o.port) : o.storeFile) + " (" +
                    firstLine(e) + ")");
  }
  try {
#if MHR_WITH_GLOO
    if (backend == "gloo") {
      auto go = c10d::ProcessGroupGloo::Options::create(o.timeout);
      const std::string ifname = env("GLOO_SOCKET_IFNAME");
      if (!ifname.empty())
        go->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
      else if (o.masterAddr == "127.0.0.1" || o.masterAddr == "localhost")
        go->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      else
        go->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      go->threads = 2;
      impl->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, static_cast<int>(o.rank),
                                                                static_cast<int>(o.worldSize), go);
    }
#endif
#if MHR_WITH_NCCL
    if (backend == "nccl") {
      auto no = c10d::ProcessGroupNCCL::Options::create();
      no->timeout = o.timeout;
      impl->group = c10::make_intrusive<c10d::ProcessGroupNCCL>(impl->store, static_cast<int>(o.rank),
                                                                static_cast<int>(o.worldSize), no);
    }
#endif
  } catch (const std::exception& e) {
    throw UserError("rank " + std::to_string(o.rank) + " of " + std::to_string(o.worldSize) +
                    ": cannot form the " + backend + " process group (" + firstLine(e) + ")");
  }
  MHR_ASSERT(impl->group, "no process group for a backend that distributedAvailable() accepted");
  return std::shared_ptr<Distributed>(new Distributed(std::move(impl)));
}

int64_t Distributed::rank() const {
  return impl_->options.rank;
}
int64_t Distributed::worldSize() const {
  return impl_->options.worldSize;
}
int64_t Distributed::localRank() const {
  return impl_->options.localRank;
}
const std::string& Distributed::device() const {
  return impl_->device;
}
const std::string& Distributed::backend() const {
  return impl_->backend;
}
std::chrono::milliseconds Distributed::timeout() const {
  return impl_->options.timeout;
}
std::string Distributed::describe() const {
  return "rank " + std::to_string(rank()) + " of " + std::to_string(worldSize()) + " (" + backend() + ", " +
         device() + ")";
}

void Distributed::storeSet(const std::string& key, const std::string& value) {
  try {
    impl_->store->set("mhr/" + key, std::vector<uint8_t>(value.begin(), value.end()));
  } catch (const std::exception& e) {
    impl_->fail("storing '" + key + "'", e);
  }
}

std::string Distributed::storeGet(const std::string& key) {
  try {
    std::vector<uint8_t> v = impl_->store->get("mhr/" + key);
    return std::string(v.begin(), v.end());
  } catch (const std::exception& e) {
    impl_->fail("waiting for '" + key + "' from rank 0", e);
  }
}

void Distributed::barrier(const std::string& what) {
  // A one-element all-reduce: a barrier that every backend implements on every device.
  torch::Tensor t = torch::zeros({1}, torch::TensorOptions().device(impl_->device));
  allReduceSum(t, what);
}

void Distributed::allReduceSum(at::Tensor& tensor, const std::string& what) {
  std::vector<at::Tensor> ts{tensor};
  c10::intrusive_ptr<c10d::Work> work;
  try {
    work = impl_->group->allreduce(ts);
  } catch (const std::exception& e) {
    impl_->fail(what, e);
  }
  impl_->wait(work, what);
}

void Distributed::broadcast(std::vector<at::Tensor>& tensors, int64_t root, const std::string& what) {
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  try {
    for (at::Tensor& t : tensors) {
      std::vector<at::Tensor> one{t};
      c10d::BroadcastOptions bo;
      bo.rootRank = root;
      works.push_back(impl_->group->broadcast(one, bo));
    }
  } catch (const std::exception& e) {
    impl_->fail(what, e);
  }
  for (auto& w : works) impl_->wait(w, what);
}

// ---- parameters and buffers at the start

namespace {
void broadcastTensors(NetworkImpl& net, Distributed& dist, bool parameters) {
  if (dist.worldSize() == 1) return;
  torch::NoGradGuard noGrad;
  std::vector<at::Tensor> tensors;
  if (parameters)
    for (auto& p : net.parameters(true)) tensors.push_back(p.data());
  for (auto& b : net.buffers(true)) tensors.push_back(b);
  if (tensors.empty()) return;
  // Collectives need contiguous tensors; channels_last ones go through a copy.
  std::vector<at::Tensor> sendable;
  for (at::Tensor& t : tensors) sendable.push_back(t.is_contiguous() ? t : t.contiguous());
  dist.broadcast(sendable, 0, "broadcasting the weights from rank 0");
  for (size_t i = 0; i < tensors.size(); ++i)
    if (!sendable[i].is_same(tensors[i])) tensors[i].copy_(sendable[i]);
}
} // namespace

void broadcastModule(NetworkImpl& net, Distributed& dist) {
  broadcastTensors(net, dist, true);
}
void broadcastBuffers(NetworkImpl& net, Distributed& dist) {
  broadcastTensors(net, dist, false);
}

// ---- gradient buckets

struct GradientBucketer::State {
  struct Slot {
    at::Tensor param;
    size_t bucket = 0;
    int64_t offset = 0, numel = 0;
    bool seen = false; // a gradient arrived in this step's final backward
  };
  struct Bucket {
    at::Tensor flat;
    size_t params = 0, ready = 0;
    c10::intrusive_ptr<c10d::Work> work;
    bool launched = false;
  };
  Distributed* dist = nullptr;
  std::vector<Slot> slots;
  std::vector<Bucket> buckets;
  std::vector<unsigned> hooks;
  std::mutex mutex;
  bool last = false;        // the current backward is the step's final micro-batch
  bool stepStarted = false; // buckets hold this step's gradients (zeroed at its first backward)
  size_t nextLaunch = 0;    // buckets start strictly in order on every rank
  std::string error;        // set from a hook (no exceptions through the autograd engine)

  void launchReady() {
    while (nextLaunch < buckets.size() && buckets[nextLaunch].ready == buckets[nextLaunch].params)
      launch(nextLaunch++);
  }
  void launch(size_t b) {
    Bucket& k = buckets[b];
    std::vector<at::Tensor> ts{k.flat};
    k.work = dist->impl().group->allreduce(ts);
    k.launched = true;
  }
  void onGrad(size_t i, const at::Tensor& grad) {
    // LibTorch 2.x calls the hook with an undefined tensor too, e.g. for the parameters an activation
    // checkpoint passes through (their gradients were accumulated inside its own backward): no gradient.
    if (!grad.defined()) return;
    std::lock_guard<std::mutex> lock(mutex);
    Slot& s = slots[i];
    Bucket& k = buckets[s.bucket];
    if (k.launched) {
      error =
          "a second gradient for a parameter arrived after its bucket was reduced (a parameter used twice "
          "in one backward pass)";
      return;
    }
    at::Tensor view = k.flat.narrow(0, s.offset, s.numel);
    view.add_(grad.detach().reshape({-1}).to(view.scalar_type()));
    if (last && !s.seen) {
      s.seen = true;
      if (++k.ready == k.params) {
        try {
          launchReady();
        } catch (const std::exception& e) {
          error = firstLine(e);
        }
      }
    }
  }
};

GradientBucketer::GradientBucketer(Distributed& dist, const std::vector<at::Tensor>& params,
                                   int64_t bucketBytes)
    : state_(std::make_shared<State>()) {
  State& st = *state_;
  st.dist = &dist;
  // Gradients become ready roughly in reverse order of the forward pass: fill buckets from the end.
  int64_t bytes = 0;
  for (size_t j = params.size(); j-- > 0;) {
    const at::Tensor& p = params[j];
    MHR_ASSERT(p.requires_grad(), "GradientBucketer: a parameter without requires_grad");
    if (st.buckets.empty() || (bytes > 0 && bytes + p.numel() * p.element_size() > bucketBytes)) {
      st.buckets.emplace_back();
      bytes = 0;
    }
    State::Slot s;
    s.param = p;
    s.bucket = st.buckets.size() - 1;
    s.numel = p.numel();
    st.slots.push_back(s);
    ++st.buckets.back().params;
    bytes += p.numel() * p.element_size();
  }
  // Offsets and flat storage per bucket (one dtype and device: the parameters').
  std::vector<int64_t> sizes(st.buckets.size(), 0);
  for (State::Slot& s : st.slots) {
    s.offset = sizes[s.bucket];
    sizes[s.bucket] += s.numel;
  }
  for (size_t b = 0; b < st.buckets.size(); ++b) {
    const at::Tensor& any = st.slots.front().param;
    st.buckets[b].flat = torch::zeros({sizes[b]}, any.options().requires_grad(false));
  }
  std::weak_ptr<State> weak = state_;
  for (size_t i = 0; i < st.slots.size(); ++i)
    st.hooks.push_back(st.slots[i].param.register_hook([weak, i](const at::Tensor& grad) {
      if (auto s = weak.lock()) s->onGrad(i, grad);
    }));
}

GradientBucketer::~GradientBucketer() {
  for (size_t i = 0; i < state_->slots.size(); ++i) state_->slots[i].param.remove_hook(state_->hooks[i]);
}

size_t GradientBucketer::buckets() const {
  return state_->buckets.size();
}

void GradientBucketer::beginBackward(bool lastMicroBatch) {
  State& st = *state_;
  std::lock_guard<std::mutex> lock(st.mutex);
  if (!st.stepStarted) {
    for (State::Bucket& b : st.buckets) b.flat.zero_();
    st.stepStarted = true;
  }
  st.last = lastMicroBatch;
}

void GradientBucketer::finishStep() {
  State& st = *state_;
  std::lock_guard<std::mutex> lock(st.mutex);
  if (!st.error.empty()) throw UserError("gradient all-reduce: " + st.error);
  if (!st.stepStarted) // no backward in this step: reduce zeros, so every rank issues the same collectives
    for (State::Bucket& b : st.buckets) b.flat.zero_();
  try {
    while (st.nextLaunch < st.buckets.size()) st.launch(st.nextLaunch++);
  } catch (const std::exception& e) {
    st.dist->impl().fail("the gradient all-reduce", e);
  }
  for (State::Bucket& b : st.buckets) st.dist->impl().wait(b.work, "the gradient all-reduce");
  torch::NoGradGuard noGrad;
  const double inv = 1.0 / static_cast<double>(st.dist->worldSize());
  for (State::Bucket& b : st.buckets) b.flat.mul_(inv);
  for (State::Slot& s : st.slots) {
    at::Tensor mean = st.buckets[s.bucket].flat.narrow(0, s.offset, s.numel).view(s.param.sizes());
    if (s.param.grad().defined())
      s.param.mutable_grad().copy_(mean);
    else
      s.param.mutable_grad() = mean.clone();
    s.seen = false;
  }
  for (State::Bucket& b : st.buckets) {
    b.ready = 0;
    b.launched = false;
    b.work.reset();
  }
  st.nextLaunch = 0;
  st.stepStarted = false;
  st.last = false;
}

// ---- synchronised batch norm

namespace {

// Sum over the ranks whose gradient is again the sum over the ranks (every rank's loss depends on the
// global statistics).
struct AllReduceSumFunction : public torch::autograd::Function<AllReduceSumFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               Distributed* dist) {
    ctx->saved_data["dist"] = reinterpret_cast<int64_t>(dist);
    torch::Tensor out = x.clone();
    dist->allReduceSum(out, "the batch-norm statistics all-reduce");
    return out;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto* dist = reinterpret_cast<Distributed*>(ctx->saved_data["dist"].toInt());
    torch::Tensor g = grads[0].contiguous().clone();
    dist->allReduceSum(g, "the batch-norm gradient all-reduce");
    return {g, torch::Tensor()};
  }
};

torch::Tensor syncBatchNorm(torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& input, Distributed& dist) {
  const auto& o = bn.options;
  const int64_t c = input.size(1);
  torch::Tensor x = input.to(torch::kFloat);
  // Per-channel sum and sum of squares in float64 (E[x²] - E[x]² would lose digits in float32), and the
  // element count, in one all-reduce.
  torch::Tensor xd = x.to(torch::kDouble);
  torch::Tensor count = torch::full({1}, static_cast<double>(x.numel() / c), xd.options());
  torch::Tensor stats = torch::cat({xd.sum({0, 2, 3}), (xd * xd).sum({0, 2, 3}), count});
  stats = AllReduceSumFunction::apply(stats, &dist);
  torch::Tensor n = stats.narrow(0, 2 * c, 1);
  torch::Tensor mean = stats.narrow(0, 0, c) / n;
  torch::Tensor var = (stats.narrow(0, c, c) / n - mean * mean).clamp_min(0.0);
  if (o.track_running_stats() && bn.running_mean.defined()) {
    torch::NoGradGuard noGrad;
    bn.num_batches_tracked += 1;
    const double total = n.item<double>();
    const double momentum = o.momentum().has_value()
                                ? *o.momentum()
                                : 1.0 / static_cast<double>(bn.num_batches_tracked.item<int64_t>());
    torch::Tensor unbiased = var.detach() * (total / std::max(1.0, total - 1.0));
    bn.running_mean.mul_(1 - momentum).add_(mean.detach().to(bn.running_mean.scalar_type()) * momentum);
    bn.running_var.mul_(1 - momentum).add_(unbiased.to(bn.running_var.scalar_type()) * momentum);
  }
  torch::Tensor invstd = torch::rsqrt(var + o.eps());
  torch::Tensor scale = invstd, shift = -mean * invstd;
  if (o.affine()) {
    scale = scale * bn.weight.to(torch::kDouble);
    shift = shift * bn.weight.to(torch::kDouble) + bn.bias.to(torch::kDouble);
  }
  torch::Tensor y =
      x * scale.to(torch::kFloat).view({1, c, 1, 1}) + shift.to(torch::kFloat).view({1, c, 1, 1});
  return y.to(input.scalar_type());
}

} // namespace

SyncBatchNormScope::SyncBatchNormScope(NetworkImpl& net, Distributed& dist) : net_(net) {
  Distributed* d = &dist;
  net_.setBatchNormOverride(
      [d](torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x) { return syncBatchNorm(bn, x, *d); });
}

SyncBatchNormScope::~SyncBatchNormScope() {
  net_.setBatchNormOverride({});
}

} // namespace mhr::runtime
