// runtime/distributed.h — data-parallel training on PyTorch's own distributed engine (c10d). In: the usual
// environment of torchrun and Slurm's srun (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT; `mhr run
// --nproc N` sets the same for its children) or explicit options. Out: a process group (Gloo for CPU
// tensors, NCCL for CUDA tensors where the build has it) over a c10d::TCPStore (or a c10d::FileStore), and
// what the trainer needs on top of it:
//   - broadcastModule: parameters and buffers from rank 0 at the start of a stage;
//   - GradientBucketer: gradients all-reduced in buckets while the backward pass still runs (a hook per
//     parameter copies its gradient into a flat bucket; a full bucket's all-reduce starts at once, buckets
//     always in the same order on every rank), averaged over the ranks before the optimizer step;
//   - SyncBatchNormScope: batch norm in training mode normalises with the statistics of the whole global
//     batch (sum and sum of squares all-reduced, differentiably), as torch.nn.SyncBatchNorm;
//   - allReduceSum for metrics (step losses, epoch losses).
// Collective errors (a peer that died, the timeout) come out as mhr::UserError naming the rank.
//
// No Torch types in this header beyond forward declarations: the `mhr` driver includes it without LibTorch.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace at {
class Tensor;
} // namespace at

namespace mhr::runtime {

class NetworkImpl;

struct DistributedOptions {
  int64_t rank = 0;
  int64_t worldSize = 1;
  int64_t localRank = 0;
  std::string masterAddr = "127.0.0.1";
  int port = 29500;
  std::string storeFile;                     // a c10d::FileStore at this path instead of the TCP store
  std::chrono::milliseconds timeout{300000}; // every collective and the rendezvous
  std::string backend = "auto";              // auto (gloo on CPU, nccl on CUDA) | gloo | nccl
};

// The environment's process group, or nullopt when WORLD_SIZE is not set. Reads RANK, WORLD_SIZE,
// LOCAL_RANK (default: RANK), MASTER_ADDR (default 127.0.0.1), MASTER_PORT (default 29500),
// MHR_DIST_TIMEOUT (seconds, default 300), MHR_DIST_STORE (a file: FileStore instead of TCPStore) and
// MHR_DIST_BACKEND (auto | gloo | nccl). Throws mhr::UserError for values that do not parse or fit.
std::optional<DistributedOptions> distributedOptionsFromEnv();

// True when this build can make a process group for `backend` (gloo: c10d's Gloo headers were found; nccl:
// a CUDA LibTorch with c10d's NCCL backend).
bool distributedAvailable(const std::string& backend);

class Distributed {
public:
  // Joins the group: rank 0 serves the TCP store, the others connect to it (waiting up to the timeout).
  // `deviceRequest` is --device; with several ranks on one machine, CUDA ranks use cuda:LOCAL_RANK.
  static std::shared_ptr<Distributed> connect(const DistributedOptions& options,
                                              const std::string& deviceRequest);
  ~Distributed();
  Distributed(const Distributed&) = delete;
  Distributed& operator=(const Distributed&) = delete;

  int64_t rank() const;
  int64_t worldSize() const;
  int64_t localRank() const;
  bool isRoot() const { return rank() == 0; }
  // The device this rank trains on ("cpu", "cuda:1") and the backend ("gloo", "nccl").
  const std::string& device() const;
  const std::string& backend() const;
  std::chrono::milliseconds timeout() const;
  std::string describe() const; // "rank 1 of 2 (gloo, cpu)"

  // Small strings between ranks through the store (run id, checkpoint folder). get waits up to the timeout.
  void storeSet(const std::string& key, const std::string& value);
  std::string storeGet(const std::string& key);
  void barrier(const std::string& what);

  // Collectives on tensors of this rank's device (in place). `what` names the operation in errors.
  void allReduceSum(at::Tensor& tensor, const std::string& what);
  void broadcast(std::vector<at::Tensor>& tensors, int64_t root, const std::string& what);

  struct Impl;
  Impl& impl() { return *impl_; }

private:
  explicit Distributed(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Parameters and buffers of `net` from rank 0 to every rank (the start of each train stage); only the
// buffers (batch-norm running statistics: without sync_bn each rank tracks its own, as under
// DistributedDataParallel, and rank 0's are kept — the end of each epoch).
void broadcastModule(NetworkImpl& net, Distributed& dist);
void broadcastBuffers(NetworkImpl& net, Distributed& dist);

// Gradient all-reduce in buckets that overlaps the backward pass (DistributedDataParallel's scheme, on
// Tensor::register_hook). Usage per optimizer step: beginBackward(last) before each micro-batch's
// backward (last = the step's final micro-batch; only then may buckets start reducing), finishStep()
// before the optimizer reads the gradients: it starts what is left, waits, and writes the mean over the
// ranks into each parameter's .grad.
class GradientBucketer {
public:
  GradientBucketer(Distributed& dist, const std::vector<at::Tensor>& params, int64_t bucketBytes);
  ~GradientBucketer();
  GradientBucketer(const GradientBucketer&) = delete;
  GradientBucketer& operator=(const GradientBucketer&) = delete;
  void beginBackward(bool lastMicroBatch);
  void finishStep();
  size_t buckets() const;

  struct State;

private:
  std::shared_ptr<State> state_;
};

// While alive, batch-norm layers of `net` in training mode normalise with global-batch statistics.
class SyncBatchNormScope {
public:
  SyncBatchNormScope(NetworkImpl& net, Distributed& dist);
  ~SyncBatchNormScope();
  SyncBatchNormScope(const SyncBatchNormScope&) = delete;
  SyncBatchNormScope& operator=(const SyncBatchNormScope&) = delete;

private:
  NetworkImpl& net_;
};

} // namespace mhr::runtime
