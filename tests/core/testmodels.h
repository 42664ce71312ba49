#pragma once

// Tiny models and synthetic data shared by the core tests.
#include "advparams.h"
#include "dataset.h"
#include "model.h"
#include "progress.h"
#include "training.h"

#include <algorithm>

#include <random>
#include <string>

namespace paramlock::testing {

/** Cancels a job at its (calls + 1)-th progress report. */
class CancelAt : public Progress
{
public:
    explicit CancelAt(int calls) : m_left(calls) { }
    bool advance(double, const std::string &) override
    {
        if (--m_left < 0)
            cancel();
        return !cancelled();
    }

private:
    int m_left;
};

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

/** Three well-separated classes of 4x4 images: class c is bright where pixel % 3 == c. */
inline Dataset separableImages(int count, unsigned seed)
{
    Dataset data;
    data.channels = 1;
    data.height = 4;
    data.width = 4;
    data.classCount = 3;
    std::mt19937 rng{seed};
    std::normal_distribution<double> noise(0.0, 20.0);
    for (int i = 0; i < count; ++i) {
        for (int p = 0; p < 16; ++p)
            data.pixels.push_back(uint8_t(std::clamp((p % 3 == i % 3 ? 200.0 : 40.0) + noise(rng), 0.0, 255.0)));
        data.labels.push_back(i % 3);
    }
    return data;
}

/** A linear classifier trained on `data` (separableImages): over 90% right. */
inline Model trainedLinear(const Dataset &data)
{
    Model model = *Model::create("linear", imageMeta(1, 4, 3), 1);
    Progress quiet;
    TrainOptions options;
    options.epochs = 15;
    options.batchSize = 16;
    train(model, data, nullptr, options, quiet);
    return model;
}

/**
 * Ten classes of 28x28 images a LeNet-5 learns in a few epochs: class c is a bright 7x7 block at its own place
 * in a noisy image.
 */
inline Dataset blockImages(int count, unsigned seed)
{
    Dataset data;
    data.name = "blocks";
    data.channels = 1;
    data.height = 28;
    data.width = 28;
    data.classCount = 10;
    std::mt19937 rng{seed};
    std::normal_distribution<double> noise(40.0, 25.0);
    for (int i = 0; i < count; ++i) {
        const int c = i % 10;
        const int top = (c / 5) * 14 + 3, left = (c % 5) * 5 + 1;
        for (int y = 0; y < 28; ++y)
            for (int x = 0; x < 28; ++x) {
                const bool block = y >= top && y < top + 7 && x >= left && x < left + 7;
                data.pixels.push_back(uint8_t(std::clamp(noise(rng) + (block ? 160.0 : 0.0), 0.0, 255.0)));
            }
        data.labels.push_back(c);
    }
    return data;
}

/** A LeNet-5 trained on `data` (blockImages): over 90% right. */
inline Model trainedLeNet(const Dataset &data, uint64_t seed)
{
    Model model = *Model::create("lenet5", imageMeta(1, 28, 10), seed);
    Progress quiet;
    TrainOptions options;
    options.epochs = 6;
    options.batchSize = 32;
    options.learningRate = 0.05;
    options.seed = seed;
    train(model, data, nullptr, options, quiet);
    return model;
}

/** A strong-mode lock among all conv/FC layers with a budget of `maxWeights`, the rest at the defaults. */
inline AdvParamsOptions strongLock(int64_t maxWeights)
{
    AdvParamsOptions o;
    o.settings.mode = LockMode::Strong;
    o.settings.allLayers = true;
    o.settings.maxWeights = maxWeights;
    return o;
}

/** A key whose AdvParams payload was edited (as a careless tool would, keeping the envelope valid). */
template<typename Edit> SecretKey editedKey(SecretKey key, Edit edit)
{
    AdvParamsKey secret = *AdvParamsKey::of(key);
    edit(secret);
    key.payload = secret.toPayload();
    key.secretCount = int64_t(secret.entries.size());
    return key;
}

/**
 * Locks `model` with and without reusing the activations below the changed layer: "" when both locks succeed, change
 * weights and write the same key payload and locked model, else what differs. `reused` receives the first lock.
 */
inline std::string reuseChangesNothing(
    const Model &model, const Dataset &data, AdvParamsOptions options, AdvParamsLock *reused = nullptr)
{
    Progress quiet;
    options.reuseActivations = true;
    auto withReuse = lockModel(model, data, options, quiet);
    options.reuseActivations = false;
    auto plain = lockModel(model, data, options, quiet);
    if (!withReuse || !plain)
        return !withReuse ? withReuse.error() : plain.error();
    if (withReuse->secret.entries.empty())
        return "the lock changed no weight";
    if (withReuse->key.payload != plain->key.payload)
        return "the keys differ";
    if (withReuse->locked.fingerprint() != plain->locked.fingerprint())
        return "the locked models differ";
    if (reused)
        *reused = std::move(*withReuse);
    return "";
}

} // namespace paramlock::testing
