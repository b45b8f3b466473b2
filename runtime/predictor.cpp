#include "runtime/predictor.h"

#include "compiler/ir/paths.h"
#include "data/cache.h"
#include "data/decode.h"
#include "data/preprocess.h"
#include "runtime/device.h"
#include "runtime/evaluator.h"
#include "runtime/state_dict.h"
#include "support/error.h"
#include "support/sha256.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

namespace mhr::runtime {
namespace {

// "PATH: what" -> "what": the CSV has the path in its own column.
std::string withoutPath(const std::string& message, const std::string& path) {
  if (message.rfind(path + ": ", 0) == 0) return message.substr(path.size() + 2);
  return message;
}

} // namespace

Predictor::Predictor(ModelRecord record, const std::string& weightsPath, const PredictOptions& options)
    : record_(std::move(record)), options_(options) {
  if (!std::filesystem::exists(weightsPath))
    throw UserError("the weights of " + record_.stage + " are missing: '" + weightsPath +
                    "' (the run's checkpoint folder was moved or deleted)");
  if (support::sha256File(weightsPath) != record_.weightsSha256)
    throw UserError("'" + weightsPath +
                    "' changed since the run wrote it (its sha256 differs from the record's)");
  if (options_.threads > 0) torch::set_num_threads(static_cast<int>(options_.threads));
  net_ = Network(record_.graph);
  loadStateDict(*net_, readStateDict(weightsPath), weightsPath);
  net_->eval();
  device_ = chooseDevice(options_.device);
  deviceName_ = device_.str();
  net_->to(device_);
  threshold_ = options_.threshold.value_or(record_.threshold);
  const std::string layer = options_.camLayer.empty() ? record_.camLayer : options_.camLayer;
  if (!layer.empty()) {
    std::optional<ir::LayerRef> ref = ir::findLayer(record_.graph, layer);
    if (!ref || ref->node == ir::kNoNode)
      throw UserError("--cam-layer: '" + layer + "' is not a layer of network '" + record_.network + "'");
    camNode_ = ref->node;
  } else {
    camNode_ = camNode(record_.graph, record_.height, record_.width);
  }
}

std::string Predictor::camLayerName() const {
  return camNode_ == ir::kNoNode ? "" : record_.graph.node(camNode_).name;
}

std::vector<ImagePrediction> Predictor::run(const std::vector<std::string>& paths) {
  const int64_t H = record_.height, W = record_.width;
  const size_t plane = size_t(H * W), k = record_.classes.size();
  const data::PreprocessSpec& spec = record_.preprocess;
  const bool binary = !record_.multiLabel && k == 2;
  std::vector<ImagePrediction> out(paths.size());
  const size_t batch = size_t(std::max<int64_t>(1, options_.batch));
  const size_t workers = options_.workers > 0 ? size_t(options_.workers)
                                              : std::max<size_t>(1, std::thread::hardware_concurrency());
  std::vector<float> pixels;
  for (size_t start = 0; start < paths.size(); start += batch) {
    const size_t n = std::min(batch, paths.size() - start);
    pixels.assign(n * plane, 0.0f);
    // Decode and preprocess in parallel; each worker keeps its own buffers.
    std::atomic<size_t> nextImage{0};
    auto work = [&] {
      data::RawImage raw;
      data::Image img;
      for (size_t i; (i = nextImage++) < n;) {
        ImagePrediction& p = out[start + i];
        p.path = paths[start + i];
        try {
          data::decodeImage(p.path, raw);
          if (raw.colour && record_.channels == 1)
            throw UserError(p.path + ": a colour image; network '" + record_.network +
                            "' takes 1-channel grey images (convert it to grey first)");
          data::preprocess(raw, spec, H, W, img);
          float* dst = pixels.data() + i * plane;
          const double invStd = 1.0 / spec.std;
          for (size_t j = 0; j < plane; ++j) {
            dst[j] = data::cacheUnit(data::cacheCode(img.pixels[j]));
            if (spec.normalize) dst[j] = float((double(dst[j]) - spec.mean) * invStd);
          }
        } catch (const std::exception& e) {
          p.error = withoutPath(e.what(), p.path);
          if (p.error.empty()) p.error = "cannot be read";
        }
      }
    };
    std::vector<std::thread> pool;
    for (size_t t = 1; t < std::min(workers, n); ++t) pool.emplace_back(work);
    work();
    for (std::thread& t : pool) t.join();

    std::vector<int64_t> ok;
    for (size_t i = 0; i < n; ++i)
      if (out[start + i].error.empty()) ok.push_back(int64_t(i));
    if (!ok.empty()) {
      torch::Tensor all = torch::from_blob(pixels.data(), {int64_t(n), 1, H, W}, torch::kFloat);
      torch::Tensor x = all.index_select(0, torch::tensor(ok, torch::kLong));
      if (record_.channels == 3) x = x.expand({x.size(0), 3, H, W});
      x = x.contiguous().to(device_);
      torch::Tensor logits, scores;
      {
        torch::NoGradGuard noGrad;
        logits = net_->forward(x).to(torch::kFloat);
        scores = record_.multiLabel ? torch::sigmoid(logits) : torch::softmax(logits, 1);
        // The evaluation's test-time augmentation, computed the same way (evaluator.cpp: predict).
        if (record_.tta) {
          torch::Tensor flipped = net_->forward(x.flip({3})).to(torch::kFloat);
          scores = (scores + (record_.multiLabel ? torch::sigmoid(flipped) : torch::softmax(flipped, 1))) / 2;
        }
      }
      logits = logits.to(torch::kCPU).contiguous();
      scores = scores.to(torch::kCPU).contiguous();
      for (size_t r = 0; r < ok.size(); ++r) {
        ImagePrediction& p = out[start + size_t(ok[r])];
        const float* lp = logits.data_ptr<float>() + r * k;
        const float* sp = scores.data_ptr<float>() + r * k;
        p.logits.assign(lp, lp + k);
        if (options_.keepInputs) {
          torch::Tensor in = x.narrow(0, ok[r], 1).to(torch::kCPU).contiguous();
          p.input.assign(in.data_ptr<float>(), in.data_ptr<float>() + in.numel());
        }
        p.probabilities.assign(sp, sp + k);
        size_t target = 0;
        if (record_.multiLabel) {
          for (size_t c = 0; c < k; ++c)
            if (sp[c] >= threshold_) p.predicted.push_back(record_.classes[c]);
          target = size_t(std::max_element(sp, sp + k) - sp);
        } else if (binary) {
          target = 1;
          p.predicted.push_back(record_.classes[sp[1] >= threshold_ ? 1 : 0]);
        } else {
          target = size_t(std::max_element(sp, sp + k) - sp);
          p.predicted.push_back(record_.classes[target]);
        }
        if (options_.cam && camNode_ != ir::kNoNode) {
          torch::Tensor img = x.narrow(0, ok[r], 1);
          torch::Tensor cam = gradCam(*net_, img, camNode_, int64_t(target));
          p.cam = camRecord(img, cam, record_.stage, p.path, "?", record_.classes[target], sp[target]);
        }
      }
    }
    if (options_.progress) options_.progress(start + n, paths.size());
  }
  return out;
}

void writeInputTensors(const std::string& path, const std::vector<ImagePrediction>& results, int64_t channels,
                       int64_t height, int64_t width) {
  StateDict sd;
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].input.empty()) continue;
    torch::Tensor t = torch::from_blob(const_cast<float*>(results[i].input.data()),
                                       {1, channels, height, width}, torch::kFloat)
                          .clone();
    sd.add(std::to_string(i), t);
  }
  writeStateDict(path, sd);
}

} // namespace mhr::runtime
