// data/io/contact_sheet.h — `mhr preview`: a PNG contact sheet of samples as the network sees them (built
// only with MHR_WITH_IMAGE_IO; drawing uses OpenCV). In: tiles (an Image on the unit scale and a caption
// each), a title, the number of columns. Out: one 8-bit PNG with the tiles in a grid, each caption under its
// tile.
#pragma once

#include "data/image.h"

#include <string>
#include <vector>

namespace mhr::data::io {

struct SheetTile {
  Image image;         // unit scale (values are clamped to [0, 1] for display)
  std::string caption; // e.g. "P_00012_LEFT_CC  malignant"
};

// tileHeight: the height each tile is drawn at (aspect ratio kept). Throws UserError when it cannot write.
void writeContactSheet(const std::vector<SheetTile>& tiles, const std::string& title, int columns,
                       int tileHeight, const std::string& path);

} // namespace mhr::data::io
