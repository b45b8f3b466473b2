#include "cli/png_encoder.h"

#if MHR_WITH_IMAGE_IO
#include "support/error.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#endif

namespace mhr::cli {

tracker::PngEncoder pngEncoder() {
#if MHR_WITH_IMAGE_IO
  return [](const uint8_t* pixels, int width, int height, int channels) {
    int type = channels == 1 ? CV_8UC1 : channels == 3 ? CV_8UC3 : CV_8UC4;
    // The report hands RGB(A); OpenCV writes BGR(A).
    cv::Mat rgb(height, width, type, const_cast<uint8_t*>(pixels)), bgr;
    if (channels == 3)
      cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    else if (channels == 4)
      cv::cvtColor(rgb, bgr, cv::COLOR_RGBA2BGRA);
    else
      bgr = rgb;
    std::vector<uchar> out;
    if (!cv::imencode(".png", bgr, out)) throw UserError("OpenCV could not encode a PNG for the report");
    return std::string(out.begin(), out.end());
  };
#else
  return {};
#endif
}

} // namespace mhr::cli
