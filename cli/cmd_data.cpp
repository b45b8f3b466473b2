// cli/cmd_data.cpp — the data commands: `mhr synth` (a synthetic data set in the real on-disk formats),
// `mhr preview` (a contact sheet of preprocessed, augmented samples with their labels) and `mhr prepare`
// (build the prepared-image caches a spec needs, e.g. before copying them to GPU nodes built without image
// decoding).
#include "cli/commands.h"
#include "cli/compile_setup.h"
#include "compiler/pipeline.h"
#include "data/augment.h"
#include "data/cache.h"
#include "data/dataset.h"
#include "data/decode.h"
#include "data/loader.h"
#include "data/synthetic.h"
#include "support/error.h"
#include "support/strings.h"

#ifdef MHR_WITH_IMAGE_IO
#include "data/io/contact_sheet.h"
#include "data/io/synth_writer.h"
#endif

#include <iostream>
#include <optional>
#include <set>

namespace mhr::cli {

namespace {

std::optional<plan::Size> parseSize(const std::string& text) {
  auto parts = support::split(support::toLower(text), 'x');
  if (parts.size() != 2) return std::nullopt;
  try {
    size_t a = 0, b = 0;
    long long h = std::stoll(parts[0], &a), w = std::stoll(parts[1], &b);
    if (a != parts[0].size() || b != parts[1].size() || h <= 0 || w <= 0) return std::nullopt;
    return plan::Size{h, w};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

plan::Size requireSize(const std::string& text, const char* option) {
  auto s = parseSize(text);
  if (!s)
    throw UserError(std::string(option) + ": expected a size such as 512x416 (height x width), got '" + text +
                    "'");
  return *s;
}

// Compiles the spec; prints diagnostics; nullopt on errors.
std::optional<plan::ExperimentPlan> compilePlan(const std::string& file,
                                                const std::vector<std::string>& overrides) {
  auto r = compileSpec(file, overrides);
  r.diags->renderText(std::cerr);
  if (!r.ok() || !r.plan) return std::nullopt;
  return std::move(*r.plan);
}

const plan::DatasetConfig& findDataset(const plan::ExperimentPlan& p, const std::string& name) {
  if (const plan::DatasetConfig* d = p.dataset(name)) return *d;
  std::vector<std::string> names;
  for (const auto& d : p.datasets) names.push_back(d.name);
  std::string m = support::closestMatch(name, names);
  throw UserError("no data set named '" + name + "' in the spec" +
                  (m.empty() ? "" : " (did you mean '" + m + "'?)") +
                  (names.empty() ? "" : "; data sets: " + support::join(names, ", ")));
}

// ---- synth

struct SynthArgs {
  std::string kind, out, size, lesion = "mixed";
  int64_t count = 0;
  int64_t seed = 0;
  double malignant = 0.5;
  double spacing = 0.0;
  int threads = 0;
};

int runSynth(const SynthArgs& a) {
#ifdef MHR_WITH_IMAGE_IO
  data::io::SynthWriteOptions options;
  options.threads = a.threads;
  if (a.kind == "mammo") {
    data::MammoParams p;
    if (a.count) p.count = a.count;
    if (!a.size.empty()) {
      plan::Size s = requireSize(a.size, "--size");
      p.height = s.h, p.width = s.w;
    }
    p.lesion = a.lesion;
    p.malignant = a.malignant;
    p.spacingMm = a.spacing;
    p.seed = uint64_t(a.seed);
    data::SyntheticMammo gen(p);
    data::io::writeSyntheticMammoSet(gen, a.out, options);
    std::cout << "wrote " << p.count << " synthetic mammograms (" << p.height << "x" << p.width
              << ", 16-bit DICOM, CBIS-DDSM layout) to " << a.out << "\n"
              << "use: dataset d = cbis_ddsm(root: \"" << a.out << "\")\n";
  } else {
    data::CxrParams p;
    if (a.count) p.count = a.count;
    if (!a.size.empty()) {
      plan::Size s = requireSize(a.size, "--size");
      p.height = s.h, p.width = s.w;
    }
    p.seed = uint64_t(a.seed);
    data::SyntheticCxr gen(p);
    data::io::writeSyntheticCxrSet(gen, a.out, options);
    std::cout << "wrote " << p.count << " synthetic chest X-rays (" << p.height << "x" << p.width
              << ", 8-bit PNG, ChestX-ray14 layout) to " << a.out << "\n"
              << "use: dataset d = chestxray14(root: \"" << a.out << "\")\n";
  }
  return 0;
#else
  (void)a;
  throw UserError(
      "`mhr synth` writes DICOM and PNG files and needs image I/O; this mhr was built with "
      "MHR_WITH_IMAGE_IO=OFF. Use synthetic_mammo(...) or synthetic_cxr(...) in the spec instead: they "
      "generate the same images in memory");
#endif
}

// ---- preview

struct PreviewArgs {
  std::string file, dataset, split = "train", at, out = "preview.png";
  std::vector<std::string> overrides;
  int count = 16, columns = 4, tileHeight = 256;
  int64_t epoch = 0;
  bool noAugment = false;
};

#ifdef MHR_WITH_IMAGE_IO // helpers of the preview, which draws with OpenCV
// The resolution and augmentation a stage uses this split with; the first matching stage wins.
const plan::Stage* stageFor(const plan::ExperimentPlan& p, const std::string& dataset,
                            const std::string& split) {
  for (const plan::Stage& s : p.stages)
    if (s.dataset == dataset && s.split == split) return &s;
  for (const plan::Stage& s : p.stages)
    if (s.dataset == dataset) return &s;
  return nullptr;
}

std::string caption(const data::Dataset& ds, const data::Sample& s) {
  std::string label;
  if (ds.multiLabel()) {
    for (size_t c = 0; c < s.positives.size(); ++c)
      if (s.positives[c]) label += (label.empty() ? "" : ",") + ds.classes()[c];
    if (label.empty()) label = "none";
  } else {
    label = ds.classes()[size_t(s.label)];
  }
  return s.id + "  " + label;
}

#endif

int runPreview(const PreviewArgs& a) {
#ifdef MHR_WITH_IMAGE_IO
  auto p = compilePlan(a.file, a.overrides);
  if (!p) return 1;
  const plan::DatasetConfig& config = findDataset(*p, a.dataset);
  data::SplitId split = data::parseSplit(a.split);
  const plan::Stage* stage = stageFor(*p, a.dataset, a.split);
  plan::Size at{0, 0};
  if (!a.at.empty())
    at = requireSize(a.at, "--at");
  else if (stage)
    at = stage->resolution;
  else
    throw UserError("no stage uses data set '" + a.dataset + "'; say which resolution to show with --at HxW");
  data::AugmentSpec augment;
  if (!a.noAugment && stage && stage->kind == plan::Stage::Kind::Train && stage->split == a.split)
    augment.ops = stage->train.augmentOps;
  data::Dataset ds = data::openDataset(config);
  std::vector<size_t> members = ds.indices(split);
  if (members.empty()) throw UserError(ds.where() + ": the " + a.split + " split is empty");
  data::LoaderOptions lo;
  lo.seed = uint64_t(p->seed);
  lo.epoch = a.epoch;
  std::vector<size_t> order = data::epochOrder(members.size(), lo);
  std::vector<data::io::SheetTile> tiles;
  size_t left = 0;
  for (size_t k = 0; k < order.size() && int(tiles.size()) < a.count; ++k) {
    size_t sample = members[order[k]];
    try {
      tiles.push_back({data::sampleAsLoaded(ds, sample, at.h, at.w, augment, lo.seed, a.epoch),
                       caption(ds, ds.samples()[sample])});
    } catch (const UserError& e) {
      // As `run` and `prepare` do: under on_error: skip an unreadable file is named and left out.
      if (!ds.options().skipErrors) throw;
      std::cerr << "mhr: warning: " << support::terminalSafe(e.what()) << "; left out (on_error: skip)\n";
      ++left;
    }
  }
  if (tiles.empty())
    throw UserError(ds.where() + ": none of the " + std::to_string(left) + " samples tried could be read");
  if (left > 0)
    std::cerr << "mhr: warning: " << left << " unreadable file(s) left out of the preview (on_error: skip)\n";
  const data::PreprocessSpec& pre = ds.options().preprocess;
  std::string title = a.dataset + "." + a.split + " at " + std::to_string(at.h) + "x" + std::to_string(at.w) +
                      ", epoch " + std::to_string(a.epoch) + ", seed " + std::to_string(p->seed) + "\n" +
                      "preprocess: " + pre.cacheKeyText().substr(std::string("preprocess-v1;").size()) +
                      (pre.normalize ? " (normalize applied after this view)" : "") + "\n" +
                      "augment: " + augment.str();
  data::io::writeContactSheet(tiles, title, a.columns, a.tileHeight, a.out);
  std::cout << "wrote " << a.out << " (" << tiles.size() << " samples of " << a.dataset << "." << a.split
            << ")\n";
  return 0;
#else
  (void)a;
  throw UserError(
      "`mhr preview` draws a PNG and needs image I/O; this mhr was built with MHR_WITH_IMAGE_IO=OFF");
#endif
}

// ---- prepare

struct PrepareArgs {
  std::string file, dataset;
  std::vector<std::string> at, overrides;
  int threads = 0;
};

int runPrepare(const PrepareArgs& a) {
  auto p = compilePlan(a.file, a.overrides);
  if (!p) return 1;
  std::vector<std::pair<std::string, plan::Size>> jobs;
  std::set<std::string> seen;
  auto add = [&](const std::string& name, plan::Size s) {
    if (seen.insert(name + "@" + std::to_string(s.h) + "x" + std::to_string(s.w)).second)
      jobs.push_back({name, s});
  };
  for (const plan::DatasetConfig& d : p->datasets) {
    if (!a.dataset.empty() && d.name != a.dataset) continue;
    if (!a.at.empty()) {
      for (const std::string& s : a.at) add(d.name, requireSize(s, "--at"));
    } else {
      for (const plan::Stage& s : p->stages)
        if (s.dataset == d.name) add(d.name, s.resolution);
    }
  }
  if (!a.dataset.empty()) findDataset(*p, a.dataset);
  if (jobs.empty()) {
    std::cout << "nothing to prepare: no stage uses " << (a.dataset.empty() ? "any data set" : a.dataset)
              << " (name resolutions with --at HxW)\n";
    return 0;
  }
  data::PrepareOptions options;
  options.threads = a.threads;
  for (const auto& [name, size] : jobs) {
    data::Dataset ds = data::openDataset(findDataset(*p, name));
    data::prepareCache(ds, size.h, size.w, options);
  }
  return 0;
}

} // namespace

void registerDataCommands(CLI::App& app, Runner& run) {
  auto synth = std::make_shared<SynthArgs>();
  CLI::App* s =
      app.add_subcommand("synth", "write a synthetic data set in the real on-disk formats (mammo: 16-bit "
                                  "DICOM + CBIS-DDSM CSVs; cxr: PNG + Data_Entry_2017.csv)");
  s->add_option("kind", synth->kind, "mammo or cxr")->required()->check(CLI::IsMember({"mammo", "cxr"}));
  s->add_option("--out", synth->out, "output folder")->required();
  s->add_option("--count", synth->count, "number of images (default: mammo 240, cxr 200)")
      ->check(CLI::Range(2, 10000000));
  s->add_option("--size", synth->size, "image size HxW (default: mammo 512x416, cxr 1024x1024)");
  s->add_option("--seed", synth->seed, "random seed (default 0); same seed, same files");
  s->add_option("--lesion", synth->lesion, "mammo: calcification, mass or mixed (default mixed)")
      ->check(CLI::IsMember({"calcification", "mass", "mixed"}));
  s->add_option("--malignant", synth->malignant, "mammo: fraction of malignant patients (default 0.5)")
      ->check(CLI::Range(0.0, 1.0));
  s->add_option(
       "--pixel-spacing", synth->spacing,
       "mammo: millimetres per pixel (default: a 24 cm field, 240 / height); lesions keep their size "
       "in mm, so a smaller image at the same spacing shows them as large in pixels")
      ->check(CLI::Range(0.05, 2.0));
  s->add_option("--threads", synth->threads, "worker threads (default: all cores)");
  s->callback([synth, &run] { run = [synth] { return runSynth(*synth); }; });

  auto preview = std::make_shared<PreviewArgs>();
  CLI::App* pv =
      app.add_subcommand("preview", "contact sheet of preprocessed, augmented samples with their labels");
  pv->add_option("file", preview->file, "the .mhr file")->required();
  pv->add_option("--dataset", preview->dataset, "data set name")->required();
  pv->add_option("--split", preview->split, "train, val or test (default train)")
      ->check(CLI::IsMember({"train", "val", "test"}));
  pv->add_option("--at", preview->at, "resolution HxW (default: the first stage using this split)");
  pv->add_option("-o,--out", preview->out, "output PNG (default preview.png)");
  pv->add_option("--count", preview->count, "number of samples (default 16)")->check(CLI::Range(1, 1024));
  pv->add_option("--columns", preview->columns, "tiles per row (default 4)")->check(CLI::Range(1, 64));
  pv->add_option("--tile-height", preview->tileHeight, "height of each tile in pixels (default 256)")
      ->check(CLI::Range(16, 4096));
  pv->add_option("--epoch", preview->epoch, "epoch whose order and augmentation to show (default 0)");
  pv->add_flag("--no-augment", preview->noAugment, "show samples without the stage's augmentation");
  pv->add_option("--set", preview->overrides, "override a setting: KEY=VALUE (repeatable)");
  pv->callback([preview, &run] { run = [preview] { return runPreview(*preview); }; });

  auto prep = std::make_shared<PrepareArgs>();
  CLI::App* pr =
      app.add_subcommand("prepare", "build the prepared-image caches a spec's stages need (decode + "
                                    "preprocess once; reused by every run)");
  pr->add_option("file", prep->file, "the .mhr file")->required();
  pr->add_option("--dataset", prep->dataset, "only this data set");
  pr->add_option("--at", prep->at, "resolution(s) HxW instead of the stages' (repeatable)");
  pr->add_option("--threads", prep->threads, "worker threads (default: all cores)");
  pr->add_option("--set", prep->overrides, "override a setting: KEY=VALUE (repeatable)");
  pr->callback([prep, &run] { run = [prep] { return runPrepare(*prep); }; });
}

} // namespace mhr::cli
