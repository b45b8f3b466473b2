// cli/backend_commands.cpp — the names and descriptions of the commands libmhr_backend.so implements, for the
// front's help text and forwarding (compiled into both halves).
#include "cli/commands.h"

namespace mhr::cli {

const std::vector<BackendCommand>& backendCommands() {
  static const std::vector<BackendCommand> c = {
      {"run",
       "execute a spec: build, morph (re-checked numerically), train and evaluate; log to the tracker"},
      {"report", "one self-contained HTML report of a run: spec with verdicts, curves, ROC, CAM overlays"},
      {"synth", "write a synthetic data set in the real on-disk formats (DICOM + CBIS-DDSM CSVs, PNG + CSV)"},
      {"preview", "contact sheet of preprocessed, augmented samples with their labels"},
      {"prepare", "build the prepared-image caches a spec's stages need"},
      {"launch", "write an sbatch script for a data-parallel run or a sweep (runs nothing)"},
      {"predict", "apply a network a run trained to image files with the run's preprocessing; CSV of "
                  "probabilities and labels, optional Grad-CAM PNGs"},
      {"export", "a trained network (morphed ones too) as model.safetensors + a plain PyTorch model.py + "
                 "spec.json"},
  };
  return c;
}

} // namespace mhr::cli
