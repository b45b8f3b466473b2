// data/augment.h — on-the-fly augmentation of training images, in plain C++ (works with
// MHR_WITH_IMAGE_IO=OFF). In: the stage's `augment: [...]` list as the plan carries it, an image on the unit
// intensity scale, and the random stream of (run seed, epoch, sample). Out: the augmented image, identical
// for identical inputs on every machine and for any number of loader threads.
//
//   hflip, vflip          mirror with probability 1/2
//   rotate(15deg)         rotate by an angle uniform in [-15, 15] degrees about the centre
//   scale(0.9, 1.1)       zoom by a factor uniform in [0.9, 1.1] about the centre
//   brightness(0.1)       add a value uniform in [-0.1, 0.1]
//   contrast(0.1)         scale deviations from the image mean by a factor uniform in [0.9, 1.1]
// Geometric operations are composed into one affine map and sampled once (bilinear, zero outside); flips
// alone move pixels exactly. Intensities are clamped to [0, 1] afterwards.
#pragma once

#include "compiler/plan/dataset_spec.h"
#include "data/image.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mhr::data {

using AugmentOp = plan::AugmentOp; // typed and checked by the compiler (compiler/plan/dataset_spec.h)

struct AugmentSpec {
  std::vector<AugmentOp> ops;
  bool empty() const { return ops.empty(); }
  std::string str() const;
};

// Applies the spec in place; `seed` identifies the stream (deriveStreamSeed(run seed, epoch, sample)).
void augment(Image& img, const AugmentSpec& spec, uint64_t seed);

} // namespace mhr::data
