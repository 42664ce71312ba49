#pragma once

#include "model.h"
#include "secretkey.h"

#include <cstdint>
#include <string>
#include <vector>

namespace paramlock {

/** The changed weights of one layer: the paper's Fig. 3 data, and the stealth numbers (Fig. 4). */
struct LayerLockReport
{
    std::string layer;
    int64_t count = 0; ///< weights in the layer
    float min = 0.0f; ///< before the lock
    float max = 0.0f;
    double lowerBound = 0.0; ///< the lowest value a changed weight may take
    double upperBound = 0.0; ///< the highest
    int steps = 0; ///< iterations the lock spent on this layer
    std::vector<int64_t> positions; ///< distinct changed weights
    std::vector<float> before; ///< their original values
    std::vector<float> after; ///< their locked values
    double meanBefore = 0.0, meanAfter = 0.0;
    double stdBefore = 0.0, stdAfter = 0.0;
};

/** What every Lock method returns. */
struct LockResult
{
    Model locked; ///< shares the input's weights when locked in place, else an independent copy
    SecretKey key;
    std::vector<LayerLockReport> layers; ///< every layer the lock worked on, changed or not
    std::vector<std::string> notes; ///< e.g. "asked for 6 random layers, the model has 5"
    int iterations = 0;
    double initialLoss = 0.0; ///< the method's objective on its own data, before
    double finalLoss = 0.0; ///< and after
    double finalAccuracy = 0.0; ///< on the method's own data, after the last change
    bool reachedTarget = false; ///< the method's own stop criterion was met (not its budget)
    std::string stopReason; ///< why the lock stopped, in the user's words
    double seconds = 0.0; ///< the lock loop alone

    int64_t encryptedCount() const
    {
        int64_t n = 0;
        for (const LayerLockReport &l : layers)
            n += int64_t(l.positions.size());
        return n;
    }
};

/**
 * The envelope a method's key travels in: the method and its mode, the fingerprints of the original and of the locked
 * model, the secret count, who made it and when, around the method's payload (JSON text).
 */
SecretKey keyEnvelope(const std::string &method, const std::string &mode, const std::string &originalFingerprint,
    const Model &locked, int64_t secretCount, std::string payload);

} // namespace paramlock
