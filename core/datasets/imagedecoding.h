#pragma once

#include "dataset.h"

#include <QImage>

#include <cstdint>
#include <vector>

namespace paramlock {

/** Appends an image, scaled to width x height, as CHW bytes with 1 (grey) or 3 (RGB) channels. */
void appendImagePixels(const QImage &image, int channels, int width, int height, std::vector<uint8_t> &out);

/** One dataset image as a QImage (grey or RGB): the inverse of appendImagePixels. */
QImage datasetImage(const Dataset &data, int64_t index);

} // namespace paramlock
