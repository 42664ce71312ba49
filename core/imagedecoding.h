#pragma once

#include <QImage>

#include <cstdint>
#include <vector>

namespace paramlock {

/** Appends an image, scaled to width x height, as CHW bytes with 1 (grey) or 3 (RGB) channels. */
void appendImagePixels(const QImage &image, int channels, int width, int height, std::vector<uint8_t> &out);

} // namespace paramlock
