// cli/png_encoder.h — the PNG encoder the report writer uses for CAM overlays and sample images: OpenCV's
// (zlib-compressed) when the build has image I/O, otherwise empty, so the tracker's built-in stored-deflate
// writer is used.
#pragma once

#include "tracker/report.h"

namespace mhr::cli {

tracker::PngEncoder pngEncoder();

} // namespace mhr::cli
