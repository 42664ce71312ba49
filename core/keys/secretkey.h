#pragma once

#include "expected.h"

#include <cstdint>
#include <string>
#include <vector>

namespace paramlock {

/** One encrypted weight: where it is and what was added to it (Eq. 5). */
struct KeyEntry
{
    std::string layer; ///< weight parameter name, e.g. "features.0.weight"
    int64_t index = 0; ///< flat (row-major) index into that weight
    double perturbation = 0.0; ///< locked value minus original value, exact in double
};

/** The hyperparameters a key was made with, recorded for reproduction. */
struct LockSettings
{
    std::string mode = "paper"; ///< "paper" (Algorithm 1 as written) or "strong" (ParamLock's)
    double theta = 0.07;
    double alpha = 0.05;
    double lossThreshold = 15.0;
    int maxIterations = 18;
    int64_t samples = 300;
    bool classBalanced = false;
    uint64_t seed = 0; ///< encryption-set and layer-choice seed
    std::vector<std::string> layers; ///< the encrypted layer set, in encryption order
    int randomLayers = 0; ///< k when the set was drawn at random, else 0
    bool allLayers = false; ///< every conv/FC layer
    // Strong mode only.
    int64_t maxWeights = 0; ///< weight budget (0: min(64, 0.01% of the parameters))
    double targetAccuracy = 0.0; ///< stop at this encryption-set accuracy (0: 0.8 x random guess)
    int candidates = 8; ///< the seed draws the weight among this many best candidates
    /** Measure each candidate's real gain with a forward pass before the draw (false in keys made before it). */
    bool lookahead = true;
    /** Chunk size of the encryption-set passes (0: not recorded). Sums in another chunking can differ in the last
     *  bits of a float and, rarely, pick another weight: a lock is reproduced with the same chunk size. */
    int chunkSize = 0;
};

/**
 * The secret key: positions and perturbations of the encrypted weights, with
 * fingerprints that tie it to one model. Whoever holds it unlocks the model.
 */
struct SecretKey
{
    static constexpr const char *kFormat = "paramlock-key";
    static constexpr int kVersion = 1;

    std::string method = "advparams";
    LockSettings settings;
    std::string originalFingerprint; ///< SHA-256 (hex) of the original conv/FC weights
    std::string lockedFingerprint; ///< SHA-256 (hex) of the locked conv/FC weights
    int64_t parameterCount = 0; ///< all parameters of the model
    std::string createdAt; ///< ISO 8601, UTC
    std::string createdBy; ///< application and version
    std::vector<KeyEntry> entries;

    /** Serialises to the versioned JSON format, with a checksum over the entries. */
    std::string toJson() const;
    /** Parses and validates; refuses other formats, newer versions and edited entries. */
    static Expected<SecretKey> fromJson(const std::string &text);

    /** Reads a key file. */
    static Expected<SecretKey> load(const std::string &path);
    /** Writes atomically; refuses to overwrite any of `protectedPaths`. */
    Expected<void> save(const std::string &path, const std::vector<std::string> &protectedPaths = {}) const;

    /** SHA-256 (hex) over the entries, independent of JSON formatting. */
    std::string entriesChecksum() const;
};

} // namespace paramlock
