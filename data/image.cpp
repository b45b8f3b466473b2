#include "data/image.h"

#include <algorithm>

namespace mhr::data {

double RawImage::rangeMin() const {
  return std::min(rescaled(codeMin()), rescaled(codeMax()));
}
double RawImage::rangeMax() const {
  return std::max(rescaled(codeMin()), rescaled(codeMax()));
}

double RawImage::value(int32_t c) const {
  double v = rescaled(c);
  return invert ? rangeMin() + rangeMax() - v : v;
}

} // namespace mhr::data
