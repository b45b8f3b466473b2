// tests/distributed/dist_train_helper.cpp — one process of the data-parallel equivalence test. Usage:
//   dist_train_helper OUT.pt [--bn] [--sync-bn] [--accumulate K] [--checkpointing]
// Trains a tiny network (conv, [bn,] relu, conv, [bn,] relu, pool, linear) for 2 epochs of SGD with momentum
// on 32 fixed 16x16 images, without shuffling. Alone (no WORLD_SIZE in the environment) it uses batches of 8;
// as rank r of 2 (RANK, WORLD_SIZE, MHR_DIST_STORE or MASTER_ADDR/PORT) batches of 8 / 2 / K: rank r's k-th
// step covers samples 8k + 4r ... 8k + 4r + 3, so the two ranks' step together is exactly the lone process's
// batch. Writes the final weights and buffers (each rank its own file, OUT.rankR).
#include "runtime/distributed.h"
#include "runtime/state_dict.h"
#include "runtime/trainer.h"

#include <cstring>
#include <iostream>

using namespace mhr;
using namespace mhr::runtime;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: dist_train_helper OUT.pt [--bn] [--sync-bn] [--accumulate K] [--checkpointing]\n";
    return 2;
  }
  bool bn = false, syncBn = false, checkpointing = false;
  int64_t accumulate = 1;
  for (int i = 2; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--bn")) bn = true;
    if (!std::strcmp(argv[i], "--sync-bn")) syncBn = true;
    if (!std::strcmp(argv[i], "--checkpointing")) checkpointing = true;
    if (!std::strcmp(argv[i], "--accumulate") && i + 1 < argc) accumulate = std::atoi(argv[++i]);
  }
  try {
    torch::set_num_threads(1);
    std::shared_ptr<Distributed> dist;
    if (auto o = distributedOptionsFromEnv()) dist = Distributed::connect(*o, "cpu");
    const int64_t world = dist ? dist->worldSize() : 1, rank = dist ? dist->rank() : 0;

    // Data: class 1 has a bright square.
    torch::manual_seed(7);
    const int64_t n = 32, global = 8;
    torch::Tensor images = torch::rand({n, 1, 16, 16}) * 0.5;
    torch::Tensor labels = torch::arange(n) % 2;
    for (int64_t i = 0; i < n; ++i)
      if (labels[i].item<int64_t>() == 1) images[i].narrow(1, 5, 5).narrow(2, 5, 5).add_(0.8);
    const int64_t perRank = global / world;
    std::vector<int64_t> mine;
    for (int64_t k = 0; k < n / global; ++k)
      for (int64_t j = 0; j < perRank; ++j) mine.push_back(k * global + rank * perRank + j);
    torch::Tensor idx = torch::tensor(mine, torch::kLong);
    SourceOptions so;
    so.batch = perRank / accumulate;
    so.shuffle = false;
    auto source =
        makeTensorSource(images.index_select(0, idx), labels.index_select(0, idx), {"a", "b"}, false, so);

    ir::GraphBuilder b;
    std::string x = b.input("input", 1);
    x = b.conv("conv1", x, 1, 4, 3, 1, 1);
    if (bn) x = b.bn("bn1", x, 4);
    x = b.act("relu1", x, ir::ActKind::Relu);
    x = b.conv("conv2", x, 4, 6, 3, 2, 1);
    if (bn) x = b.bn("bn2", x, 6);
    x = b.act("relu2", x, ir::ActKind::Relu);
    x = b.adaptiveAvgPool("pool", x, 1, 1);
    x = b.flatten("flatten", x);
    x = b.linear("fc", x, 6, 2);
    torch::manual_seed(rank == 0 ? 1 : 1000 + rank); // rank 0's weights must win the broadcast
    Network net(std::move(b).finish(x));
    net->resetParameters();
    if (checkpointing) net->setCheckpointSegments({{1, 4}});

    plan::TrainConfig cfg;
    cfg.epochs = 2;
    cfg.batch = so.batch;
    cfg.accumulate = accumulate;
    cfg.optimizer.kind = plan::OptimizerKind::Sgd;
    cfg.optimizer.lr = 0.1;
    cfg.optimizer.momentum = 0.9;
    cfg.workers = 0;
    cfg.syncBatchNorm = syncBn;
    TrainContext ctx;
    ctx.stageKey = "train.toy";
    ctx.progress.enabled = false;
    ctx.distributed = dist.get();
    ctx.bucketBytes = 64; // several buckets even for this tiny network
    NullSink sink;
    TrainResult r = train(*net, cfg, *source, nullptr, ctx, sink);
    StateDict sd = moduleStateDict(*net);
    writeStateDict(std::string(argv[1]) + ".rank" + std::to_string(rank), sd);
    std::cout << "epoch_loss " << r.lastEpochLoss << "\n";
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
