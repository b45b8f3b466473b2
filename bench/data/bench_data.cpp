// bench/data/bench_data.cpp — the mhr side of the data benchmark. In: a folder of DICOM files (or the
// parameters to write them). Out: one line "images_per_second N" on stdout.
//   mhr_bench_data make DIR COUNT HxW      writes COUNT synthetic 16-bit mammograms (DICOM) to DIR
//   mhr_bench_data run DIR THREADS HxW [REPEAT]   decode + preprocess every file REPEAT times on THREADS
//   threads
// "Preprocess" is the default pipeline (nominal range to 0..1, keep aspect ratio, area resize, pad), the
// same work bench_data.py does with pydicom + OpenCV.
#include "data/decode.h"
#include "data/io/dicom.h"
#include "data/preprocess.h"
#include "data/synthetic.h"
#include "support/error.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

using namespace mhr::data;
namespace fs = std::filesystem;

namespace {
bool parseSize(const std::string& s, int64_t& h, int64_t& w) {
  return std::sscanf(s.c_str(), "%ldx%ld", &h, &w) == 2;
}
} // namespace

int main(int argc, char** argv) {
  try {
    std::string mode = argc > 1 ? argv[1] : "";
    int64_t h = 0, w = 0;
    if (mode == "make" && argc == 5 && parseSize(argv[4], h, w)) {
      MammoParams p;
      p.count = std::stol(argv[3]);
      p.height = h;
      p.width = w;
      p.seed = 17;
      SyntheticMammo gen(p);
      fs::create_directories(argv[2]);
      std::atomic<int64_t> next{0};
      std::vector<std::thread> pool;
      for (unsigned t = 0; t < std::max(1u, std::thread::hardware_concurrency()); ++t)
        pool.emplace_back([&] {
          for (int64_t i; (i = next++) < p.count;) {
            RawImage r = gen.render(i);
            io::DicomWriteSpec spec;
            spec.attributes = {{"Modality", "MG"}};
            char name[32];
            std::snprintf(name, sizeof name, "%04ld.dcm", long(i));
            io::writeDicom((fs::path(argv[2]) / name).string(), r.height, r.width, r.stored, spec);
          }
        });
      for (auto& t : pool) t.join();
      return 0;
    }
    if (mode == "run" && (argc == 5 || argc == 6) && parseSize(argv[4], h, w)) {
      int threads = std::stoi(argv[3]);
      int repeat = argc == 6 ? std::stoi(argv[5]) : 1;
      std::vector<std::string> files;
      for (auto& e : fs::directory_iterator(argv[2]))
        if (e.path().extension() == ".dcm") files.push_back(e.path().string());
      std::sort(files.begin(), files.end());
      if (files.empty()) throw mhr::UserError(std::string(argv[2]) + ": no .dcm files");
      const size_t total = files.size() * size_t(repeat);
      PreprocessSpec spec; // defaults: unit range, pad, area resize
      std::atomic<size_t> next{0};
      std::atomic<double> checksum{0};
      // One untimed image per thread first, as bench_data.py warms its worker processes up: the first decode
      // of a thread allocates its buffers, later ones reuse them.
      std::vector<RawImage> raws(static_cast<size_t>(threads));
      std::vector<Image> imgs(static_cast<size_t>(threads));
      auto pass = [&](size_t count, bool sum) {
        next = 0;
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t)
          pool.emplace_back([&, t] {
            double local = 0;
            for (size_t i; (i = next++) < count;) {
              decodeImage(files[i % files.size()], raws[size_t(t)]);
              preprocess(raws[size_t(t)], spec, h, w, imgs[size_t(t)]);
              local += imgs[size_t(t)]
                           .pixels[size_t((h / 2) * w + w / 2)]; // the centre pixel, as bench_data.py sums
            }
            double cur = checksum.load();
            while (sum && !checksum.compare_exchange_weak(cur, cur + local)) {
            }
          });
        for (auto& t : pool) t.join();
      };
      pass(size_t(threads), false);
      auto start = std::chrono::steady_clock::now();
      pass(total, true);
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("images_per_second %.3f\nimages %zu\nseconds %.3f\nchecksum %.6f\n",
                  double(total) / seconds, total, seconds, checksum.load());
      return 0;
    }
    std::cerr << "usage: mhr_bench_data make DIR COUNT HxW | run DIR THREADS HxW [REPEAT]\n";
    return 2;
  } catch (const mhr::UserError& e) {
    std::cerr << "mhr_bench_data: " << e.what() << "\n";
    return 1;
  }
}
