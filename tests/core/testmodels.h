#pragma once

// Tiny models and synthetic data shared by the core tests.
#include "dataset.h"
#include "model.h"

#include <random>

namespace paramlock::testing {

inline ModelMetadata imageMeta(int channels, int side, int classes)
{
    ModelMetadata m;
    m.channels = channels;
    m.height = side;
    m.width = side;
    m.classCount = classes;
    return m;
}

/** A flat input of `inputs` values, for the linear classifier. */
inline ModelMetadata linearMeta(int inputs, int classes)
{
    ModelMetadata m;
    m.channels = 1;
    m.height = 1;
    m.width = inputs;
    m.classCount = classes;
    return m;
}

/** Random pixels, labels cycling through the classes. */
inline Dataset randomImages(int count, int channels, int side, int classes, uint64_t seed)
{
    Dataset d;
    d.name = "synthetic";
    d.channels = channels;
    d.height = side;
    d.width = side;
    d.classCount = classes;
    std::mt19937 rng{static_cast<unsigned>(seed)};
    std::uniform_int_distribution<int> byte(0, 255);
    d.pixels.resize(size_t(count) * size_t(d.imageBytes()));
    for (auto &p : d.pixels)
        p = uint8_t(byte(rng));
    for (int i = 0; i < count; ++i)
        d.labels.push_back(i % classes);
    return d;
}

} // namespace paramlock::testing
