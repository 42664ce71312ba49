#pragma once

// The dense lock, ParamLock's own method: every weight of the chosen layers is moved to another place of its layer by
// a permutation that only the key's 256-bit secret reproduces (a ChaCha20 keystream driving a Fisher-Yates shuffle).
// Each layer keeps exactly its multiset of values (histogram, mean, std, min, max), so no statistic of a layer gives
// the lock away, and nothing of the trained structure is left where it was: the locked model is as good as a random
// initialisation with the trained weight distribution. The key stays tiny (the secret and the layer list).

#include "lockresult.h"
#include "parameters.h"
#include "progress.h"
#include "protectionmethod.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace paramlock {

/** The dense lock's settings. */
struct DenseSettings
{
    LayerSelection layers{LayerSelection::Kind::All, 0, {}}; ///< which conv/FC layers are permuted
    uint64_t seed = 0; ///< draws the layers of a random selection only; the secret is never derived from it
};

/** The 256-bit secret the permutations come from. */
using DenseSecret = std::array<uint8_t, 32>;

/**
 * The permutation of n positions that `secret` gives for stream `stream` (one stream per permuted layer, its place in
 * the key's list): perm[i] is the original position whose value lands at position i. Unbiased (rejection sampling
 * of the keystream's 64-bit words), so every permutation is equally likely without the secret.
 */
std::vector<int64_t> keyedPermutation(const DenseSecret &secret, uint64_t stream, int64_t n);

/** One permuted layer: its weight's name and size (checked before a key is applied). */
struct DenseLayer
{
    std::string layer;
    int64_t count = 0;
};

/** The dense lock's key payload. */
struct DenseKey
{
    DenseSettings settings;
    DenseSecret secret{};
    std::vector<DenseLayer> layers; ///< in stream order

    std::string toPayload() const;
    static Expected<DenseKey> of(const SecretKey &key);
};

/** A dense lock: the common result and the typed key. */
struct DenseLock : LockResult
{
    DenseKey secret;
};

/** The conv/FC weights the settings choose, in model order; an unknown name is an error that names the known ones. */
Expected<std::vector<DenseLayer>> denseLayers(const Model &model, const DenseSettings &settings);

/**
 * Locks a model with a fresh secret from the system's random source (`secret` only for tests). On a copy unless
 * `inPlace`; cancelling or failing leaves `model` as it was. The key is verified to restore the original bit for bit.
 */
Expected<DenseLock> denseLock(
    Model &model, bool inPlace, const DenseSettings &settings, Progress &progress, const DenseSecret *secret = nullptr);

/** Undoes the permutations in place, verified by the original's fingerprint; on a mismatch the model stays locked. */
Expected<void> denseRestore(Model &model, const SecretKey &key, const DenseKey &secret, UnlockTiming &timing);

/** The dense lock's settings a generic request stands for. */
Expected<DenseSettings> denseSettings(const ParameterValues &values);
ParameterValues valuesOfSettings(const DenseSettings &settings);

/** The dense lock behind the method seam. */
const ProtectionMethod &denseMethod();

} // namespace paramlock
