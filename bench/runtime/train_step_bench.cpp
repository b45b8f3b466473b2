// bench/runtime/train_step_bench.cpp — images per second of one training step (forward, cross-entropy,
// backward, SGD with momentum) of a stdlib network built by the runtime from its IR; the twin of
// train_step.py (PyTorch eager + torchvision). Also the peak device memory (CUDA) and the cost model's
// estimate for the same step, the LibTorch version and the peak resident memory. Prints "key value" lines.
//   mhr_bench_train_step --arch resnet18 --res 256 [--width W] [--batch 8] [--device cpu|cuda] [--precision
//   fp32|bf16|fp16] [--channels-last] [--steps 10] [--warmup 3] [--threads N] [--checkpointing off|auto|all]
//   [--budget-gib G] [--classes 1000]
//   mhr_bench_train_step --spec FILE.mhr --network NAME [--model-py OUT.py] ...: the network a spec defines
//   (a morph child included) instead of a stdlib one; --model-py writes the generated PyTorch module of the
//   same graph (export/model_py.h) for train_step.py --model-py, the anchor of such a network.
#include "compiler/cost/checkpoint.h"
#include "compiler/cost/cost_model.h"
#include "compiler/ir/shapes.h"
#include "compiler/pipeline.h"
#include "export/model_py.h"
#include "runtime/device.h"
#include "runtime/network.h"
#include "runtime/optimizer.h"
#include "stdlib/catalog.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <sys/resource.h>

using namespace mhr;

// CPU seconds (user + system) of this process: less sensitive than wall time to other processes on a shared
// machine (it counts what the step consumed, not what it waited for).
static double cpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

int main(int argc, char** argv) {
  runtime::keepHostMemory(); // as `mhr run` does
  std::string arch = "resnet18", device = "cpu", precision = "fp32", checkpointing = "off";
  std::string specPath, networkName, modelPy;
  int64_t height = 256, width = 256, batch = 8, steps = 10, warmup = 3, threads = 0, classes = 1000;
  double widthMult = 1.0, budgetGiB = 0;
  bool channelsLast = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "missing value after " << a << "\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--arch")
      arch = next();
    else if (a == "--res") {
      std::string r = next();
      size_t x = r.find('x');
      height = std::stoll(r.substr(0, x));
      width = x == std::string::npos ? height : std::stoll(r.substr(x + 1));
    } else if (a == "--width")
      widthMult = std::stod(next());
    else if (a == "--batch")
      batch = std::stoll(next());
    else if (a == "--device")
      device = next();
    else if (a == "--precision")
      precision = next();
    else if (a == "--channels-last")
      channelsLast = true;
    else if (a == "--steps")
      steps = std::stoll(next());
    else if (a == "--warmup")
      warmup = std::stoll(next());
    else if (a == "--threads")
      threads = std::stoll(next());
    else if (a == "--checkpointing")
      checkpointing = next();
    else if (a == "--budget-gib")
      budgetGiB = std::stod(next());
    else if (a == "--classes")
      classes = std::stoll(next());
    else if (a == "--spec")
      specPath = next();
    else if (a == "--network")
      networkName = next();
    else if (a == "--model-py")
      modelPy = next();
    else {
      std::cerr << "unknown option " << a << "\n";
      return 2;
    }
  }
  try {
    if (threads > 0) torch::set_num_threads(static_cast<int>(threads));
    torch::Device dev = runtime::chooseDevice(device);
    const bool cuda = dev.is_cuda();
    ir::NetworkOptions o;
    o.classes = classes;
    o.width = widthMult;
    ir::Graph graph;
    if (specPath.empty()) {
      graph = stdlib::catalog().build(arch, o);
    } else {
      compiler::CompileOptions co;
      co.catalog = &stdlib::catalog();
      compiler::CompileResult r = compiler::compileFile(specPath, co);
      if (!r.ok() || !r.plan) throw std::runtime_error(specPath + " does not compile (mhr check says why)");
      const plan::NetworkPlan* np = r.plan->network(networkName);
      if (!np) throw std::runtime_error(specPath + " defines no network '" + networkName + "'");
      graph = np->graph;
      arch = networkName + " of " + specPath;
      // The output may be a branch's join (an add), not a linear: its shape says the class count.
      ir::ShapeResult shapes = ir::inferShapes(graph, 1, height, width);
      if (!shapes.ok()) throw std::runtime_error(networkName + " does not run at this resolution");
      classes = shapes.shapes[static_cast<size_t>(graph.outputId())].c;
    }
    const int64_t inChannels = graph.node(graph.inputId()).input.channels;
    if (!modelPy.empty()) {
      exporter::PythonModelInfo info;
      info.networkName = networkName.empty() ? arch : networkName;
      info.height = height;
      info.width = width;
      for (int64_t c = 0; c < classes; ++c) info.classes.push_back("class" + std::to_string(c));
      std::ofstream(modelPy) << exporter::generateModelPy(graph, info);
    }

    std::string why;
    auto cost = cost::analyze(graph, height, width, &why);
    if (!cost) throw std::runtime_error(why);
    cost::TrainingSetup setup;
    setup.batch = batch;
    setup.precision =
        cuda ? plan::parsePrecision(precision).value_or(plan::Precision::Fp32) : plan::Precision::Fp32;
    setup.optimizer = plan::OptimizerKind::Sgd;
    setup.momentum = true;
    cost::CheckpointPolicy policy =
        plan::parseCheckpointing(checkpointing).value_or(plan::Checkpointing::Off);
    int64_t budget =
        budgetGiB > 0 ? static_cast<int64_t>(budgetGiB * (1LL << 30)) : runtime::deviceMemoryBytes(dev);
    cost::CheckpointPlan plan = cost::planCheckpoints(graph, *cost, setup, policy, budget);

    torch::manual_seed(0);
    runtime::Network net(graph);
    net->resetParameters();
    std::vector<runtime::CheckpointSegment> segments;
    for (const auto& s : plan.segments) segments.push_back({s.first, s.last + 1});
    net->setCheckpointSegments(segments);
    net->to(dev);
    if (channelsLast && cuda) {
      torch::NoGradGuard g;
      for (auto& p : net->parameters())
        if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
    }
    runtime::configureBackends(dev, /*deterministic=*/false, /*cudnnBenchmark=*/true);
    net->train();
    std::vector<std::pair<std::string, torch::Tensor>> named;
    for (const auto& p : net->named_parameters()) named.emplace_back(p.key(), p.value());
    plan::OptimizerConfig oc;
    oc.kind = plan::OptimizerKind::Sgd;
    oc.lr = 0.01;
    oc.momentum = 0.9;
    runtime::Optimizer opt(oc, named, {}, {});

    torch::Tensor x = torch::randn({batch, inChannels, height, width}).to(dev);
    if (channelsLast && cuda) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
    torch::Tensor y = torch::randint(0, classes, {batch}, torch::kLong).to(dev);
    const bool autocast = cuda && precision != "fp32";
    const at::ScalarType type = precision == "fp16" ? at::kHalf : at::kBFloat16;
    double scale = precision == "fp16" && cuda ? 1024.0 : 1.0;

    auto step = [&] {
      torch::Tensor loss;
      {
        runtime::compat::CudaAutocastGuard guard(autocast, type);
        loss = torch::nn::functional::cross_entropy(net->forward(x).to(torch::kFloat), y);
      }
      (loss * scale).backward();
      opt.step(0.01 / scale);
      opt.zeroGrad();
    };
    for (int64_t i = 0; i < warmup; ++i) step();
    if (cuda) torch::cuda::synchronize();
    runtime::resetPeakMemory(dev);
    auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpuSeconds();
    for (int64_t i = 0; i < steps; ++i) step();
    if (cuda) torch::cuda::synchronize();
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = cpuSeconds() - c0;
    std::printf("arch %s\nresolution %lldx%lld\nbatch %lld\nthreads %d\n", arch.c_str(), (long long)height,
                (long long)width, (long long)batch, at::get_num_threads());
    std::printf("ms_per_step %.3f\nimages_per_second %.3f\n", 1000 * seconds / static_cast<double>(steps),
                static_cast<double>(batch * steps) / seconds);
    std::printf("cpu_seconds_per_step %.3f\n", cpu / static_cast<double>(steps));
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    std::printf("libtorch %s\npeak_rss_bytes %lld\n", TORCH_VERSION,
                static_cast<long long>(usage.ru_maxrss) * 1024);
    std::printf("peak_bytes %lld\nestimate_bytes %lld\ncheckpoint_segments %zu\n",
                static_cast<long long>(runtime::peakMemoryBytes(dev)),
                static_cast<long long>(plan.memory.totalBytes()), plan.segments.size());
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "mhr_bench_train_step: " << e.what() << "\n";
    return 1;
  }
}
