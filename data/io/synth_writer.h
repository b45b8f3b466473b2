// data/io/synth_writer.h — `mhr synth`: writes a synthetic data set in the real on-disk formats, so the
// file-based constructors are exercised exactly as with the public data (built only with MHR_WITH_IMAGE_IO).
// In: a generator (the same one `synthetic_mammo(...)`/`synthetic_cxr(...)` use in memory) and a folder.
// Out, mammography: 16-bit DICOM (Explicit VR Little Endian, MONOCHROME2) in CBIS-DDSM's folder layout
// (`Mass-Training_P_00001_LEFT_CC/<study UID>/<series UID>/000000.dcm`) and the four description CSVs with
// the shipped headers and quirks; chest X-ray: 8-bit PNGs under images/, Data_Entry_2017.csv (bracketed
// header, trailing comma) and the train_val_list.txt / test_list.txt split lists.
// Pixels equal the in-memory generator's codes exactly; the official train/test side is the generator's test
// split (its val cases go to the training side, as the loaders carve validation from train themselves).
#pragma once

#include "data/progress.h"
#include "data/synthetic.h"

#include <ostream>
#include <string>

namespace mhr::data::io {

struct SynthWriteOptions {
  int threads = 0; // 0 = all hardware threads
  ProgressMode progress = ProgressMode::Auto;
  std::ostream* out = nullptr; // nullptr = std::cerr
};

void writeSyntheticMammoSet(const SyntheticMammo& generator, const std::string& folder,
                            const SynthWriteOptions& options = {});
void writeSyntheticCxrSet(const SyntheticCxr& generator, const std::string& folder,
                          const SynthWriteOptions& options = {});

} // namespace mhr::data::io
