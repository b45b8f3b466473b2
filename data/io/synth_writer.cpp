#include "data/io/synth_writer.h"

#include "data/io/dicom.h"
#include "data/io/raster.h"
#include "data/random.h"
#include "support/error.h"
#include "support/files.h"

#include <fmt/format.h>

#include <atomic>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

namespace mhr::data::io {

namespace fs = std::filesystem;

namespace {

// A DICOM UID under the 2.25 root (an integer derived from a UUID-sized random number): deterministic by
// seed, valid, and unique for practical purposes.
std::string uid(uint64_t seed, uint64_t a, uint64_t b) {
  unsigned __int128 v = (static_cast<unsigned __int128>(deriveStreamSeed(seed, 0x756964ULL, a, b)) << 64) |
                        deriveStreamSeed(seed, 0x756964ULL + 1, a, b);
  v &= ~(static_cast<unsigned __int128>(1) << 127); // 2.25 allows up to 128 bits; stay below 39 digits
  std::string digits;
  do {
    digits.insert(digits.begin(), char('0' + int(v % 10)));
    v /= 10;
  } while (v != 0);
  return "2.25." + digits;
}

void runParallel(size_t count, const SynthWriteOptions& options, const std::string& label,
                 const std::function<void(size_t)>& job) {
  std::ostream& out = options.out ? *options.out : std::cerr;
  unsigned threads =
      options.threads > 0 ? unsigned(options.threads) : std::max(1u, std::thread::hardware_concurrency());
  std::atomic<size_t> next{0}, done{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::string error;
  Progress progress(label, count, out, options.progress);
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      while (!stop) {
        size_t i = next++;
        if (i >= count) break;
        try {
          job(i);
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> lock(mutex);
          if (error.empty()) error = e.what();
          stop = true;
        }
        ++done;
      }
    });
  while (done < count && !stop) {
    progress.update(done);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (auto& t : pool) t.join();
  progress.finish(done);
  if (!error.empty()) throw UserError(error);
}

std::string csvQuote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

} // namespace

void writeSyntheticMammoSet(const SyntheticMammo& gen, const std::string& folder,
                            const SynthWriteOptions& options) {
  support::makeDirectories(folder);
  const MammoParams& p = gen.params();
  struct Row {
    std::string file, text;
  };
  std::vector<std::string> relPath(gen.cases().size());
  std::vector<Row> rows;
  for (const MammoCase& c : gen.cases()) {
    bool calc = c.lesion == LesionKind::CalcCluster || c.lesion == LesionKind::None;
    bool test = c.split == SplitId::Test;
    std::string kind = calc ? "calc" : "mass";
    std::string prefix = std::string(calc ? "Calc" : "Mass") + (test ? "-Test" : "-Training");
    std::string patient = fmt::format("P_{:05d}", c.patient + 1);
    std::string side = c.leftBreast ? "LEFT" : "RIGHT", view = c.mlo ? "MLO" : "CC";
    std::string folderName = fmt::format("{}_{}_{}_{}", prefix, patient, side, view);
    std::string study = uid(p.seed, uint64_t(c.index), 1), series = uid(p.seed, uint64_t(c.index), 2);
    relPath[size_t(c.index)] = folderName + "/" + study + "/" + series + "/000000.dcm";
    std::string roiFolder =
        folderName + "_1/" + uid(p.seed, uint64_t(c.index), 3) + "/" + uid(p.seed, uint64_t(c.index), 4);
    Rng rng(deriveStreamSeed(p.seed, 0x637376ULL /* "csv" */, uint64_t(c.index)));
    int subtlety = 1 + int(rng.below(5));
    std::string shape, margins, pathology;
    int assessment;
    if (c.lesion == LesionKind::CalcCluster)
      shape = "PLEOMORPHIC", margins = "CLUSTERED", assessment = 4 + int(rng.below(2)),
      pathology = "MALIGNANT";
    else if (c.lesion == LesionKind::SpiculatedMass)
      shape = "IRREGULAR", margins = "SPICULATED", assessment = 4 + int(rng.below(2)),
      pathology = "MALIGNANT";
    else if (c.lesion == LesionKind::SmoothMass)
      shape = "ROUND", margins = "CIRCUMSCRIBED", assessment = 2 + int(rng.below(2)), pathology = "BENIGN";
    else
      shape = "LUCENT_CENTER", margins = "SCATTERED", assessment = 2, pathology = "BENIGN_WITHOUT_CALLBACK";
    // As in the shipped calc files, the last path is a quoted field ending in a newline.
    std::string mask = roiFolder + "/000001.dcm";
    std::string text =
        fmt::format("{},{},{},{},1,{},{},{},{},{},{},{},{}/000000.dcm,{}\n", patient, c.density, side, view,
                    calc ? "calcification" : "mass", shape, margins, assessment, pathology, subtlety,
                    relPath[size_t(c.index)], roiFolder, calc ? csvQuote(mask + "\n") : mask);
    rows.push_back({fmt::format("{}_case_description_{}_set.csv", kind, test ? "test" : "train"), text});
  }
  const std::string massHeader =
      "patient_id,breast_density,left or right breast,image view,abnormality id,abnormality type,mass "
      "shape,mass "
      "margins,assessment,pathology,subtlety,image file path,cropped image file path,ROI mask file path\n";
  const std::string calcHeader = "patient_id,breast density,left or right breast,image view,abnormality "
                                 "id,abnormality type,calc type,calc "
                                 "distribution,assessment,pathology,subtlety,image file path,cropped image "
                                 "file path,ROI mask file path\n";

  runParallel(
      gen.cases().size(), options, fmt::format("synth mammo {}x{}", p.height, p.width), [&](size_t i) {
        const MammoCase& c = gen.cases()[i];
        RawImage raw = gen.render(int64_t(i));
        fs::path target = fs::path(folder) / relPath[i];
        support::makeDirectories(target.parent_path().string());
        DicomWriteSpec spec;
        std::string patient = fmt::format("P_{:05d}", c.patient + 1);
        spec.attributes = {
            {"PatientID", patient},
            {"PatientName", "Synthetic^" + patient},
            {"StudyInstanceUID", uid(p.seed, uint64_t(i), 1)},
            {"SeriesInstanceUID", uid(p.seed, uint64_t(i), 2)},
            {"SOPInstanceUID", uid(p.seed, uint64_t(i), 5)},
            {"Modality", "MG"},
            {"BodyPartExamined", "BREAST"},
            {"ImageLaterality", c.leftBreast ? "L" : "R"},
            {"ViewPosition", c.mlo ? "MLO" : "CC"},
            {"SeriesDescription", "full mammogram images"},
            {"PixelSpacing", fmt::format("{:.6g}\\{:.6g}", gen.pixelSpacingMm(), gen.pixelSpacingMm())},
            {"ConversionType", "WSD"}};
        writeDicom(target.string(), raw.height, raw.width, raw.stored, spec);
      });

  std::map<std::string, std::string> files = {{"mass_case_description_train_set.csv", massHeader},
                                              {"mass_case_description_test_set.csv", massHeader},
                                              {"calc_case_description_train_set.csv", calcHeader},
                                              {"calc_case_description_test_set.csv", calcHeader}};
  for (const Row& r : rows) files[r.file] += r.text;
  for (const auto& [name, text] : files) support::writeFileAtomic((fs::path(folder) / name).string(), text);
  support::writeFileAtomic(
      (fs::path(folder) / "README.txt").string(),
      fmt::format(
          "Synthetic mammograms in the CBIS-DDSM layout, written by `mhr synth mammo`.\n"
          "count {}, size {}x{}, lesion {}, malignant {}, seed {}. Not patient data.\n"
          "Read with: dataset d = cbis_ddsm(root: \"<this folder>\")\n"
          "Only full mammograms are written; the cropped-image and ROI-mask paths in the CSVs point to "
          "files that do not exist (mhr never reads them).\n",
          p.count, p.height, p.width, p.lesion, p.malignant, p.seed));
}

void writeSyntheticCxrSet(const SyntheticCxr& gen, const std::string& folder,
                          const SynthWriteOptions& options) {
  const CxrParams& p = gen.params();
  support::makeDirectories((fs::path(folder) / "images").string());
  runParallel(gen.cases().size(), options, fmt::format("synth cxr {}x{}", p.height, p.width), [&](size_t i) {
    RawImage raw = gen.render(int64_t(i));
    writeGreyPng((fs::path(folder) / "images" / gen.cases()[i].imageName()).string(), raw.height, raw.width,
                 raw.stored, 8);
  });
  std::string entries = "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View "
                        "Position,OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y],\n";
  std::string trainVal, test;
  for (const CxrCase& c : gen.cases()) {
    std::string findings;
    for (size_t k = 0; k < c.findings.size(); ++k)
      if (c.findings[k]) findings += (findings.empty() ? "" : "|") + chestXray14Labels()[k];
    if (findings.empty()) findings = "No Finding";
    entries += fmt::format("{},{},{},{},{},{},{},{},{},{:.3f},{:.3f},\n", c.imageName(), findings, c.followUp,
                           c.patient, c.age, c.male ? "M" : "F", c.pa ? "PA" : "AP", p.width, p.height,
                           430.0 / double(p.width), 430.0 / double(p.height));
    (c.split == SplitId::Test ? test : trainVal) += c.imageName() + "\n";
  }
  support::writeFileAtomic((fs::path(folder) / "Data_Entry_2017.csv").string(), entries);
  support::writeFileAtomic((fs::path(folder) / "train_val_list.txt").string(), trainVal);
  support::writeFileAtomic((fs::path(folder) / "test_list.txt").string(), test);
  support::writeFileAtomic(
      (fs::path(folder) / "README.txt").string(),
      fmt::format("Synthetic chest X-rays in the NIH ChestX-ray14 layout, written by `mhr synth "
                  "cxr`.\ncount {}, size {}x{}, seed {}. Not patient data.\n"
                  "Read with: dataset d = chestxray14(root: \"<this folder>\")\n",
                  p.count, p.height, p.width, p.seed));
}

} // namespace mhr::data::io
