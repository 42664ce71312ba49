#pragma once

#include "dataset.h"
#include "expected.h"
#include "model.h"
#include "progress.h"
#include "secretkey.h"

#include <cstdint>
#include <string>
#include <vector>

namespace paramlock {

/** Everything the encryption needs besides the model and the encryption set. */
struct LockOptions
{
    LockSettings settings; ///< theta, alpha, T_loss, I, N, seed, layer set, mode
    /**
     * Chunk size of the encryption-set forward/backward, recorded in the key. Measured, not assumed: 50 is
     * never slower than 100 here and 1.4x faster on the DenseNet (cache effects of the activations).
     */
    int batchSize = 50;
    /** Compute the activations below the changed layers once, not every iteration (zoo models). */
    bool reuseActivations = true;
};

/** Fig. 3's data for one encrypted layer, plus the stealthiness numbers. */
struct LayerLockReport
{
    std::string layer;
    int64_t count = 0; ///< weights in the layer
    float min = 0.0f; ///< before encryption
    float max = 0.0f;
    double lowerBound = 0.0; ///< T1
    double upperBound = 0.0; ///< T2
    int steps = 0; ///< iterations spent on this layer
    std::vector<int64_t> positions; ///< distinct encrypted weights
    std::vector<float> before; ///< their original values
    std::vector<float> after; ///< their locked values
    double meanBefore = 0.0, meanAfter = 0.0;
    double stdBefore = 0.0, stdAfter = 0.0;
};

struct LockResult
{
    Model locked; ///< an independent copy; the input model is untouched
    SecretKey key;
    std::vector<LockStep> steps; ///< one per iteration
    std::vector<LayerLockReport> layers;
    std::vector<std::string> notes; ///< e.g. "asked for 6 random layers, the model has 5"
    int iterations = 0;
    int64_t lookaheadPasses = 0; ///< strong mode: forward passes that measured a candidate's real gain
    double initialLoss = 0.0;
    double finalLoss = 0.0;
    double finalAccuracy = 0.0; ///< on the encryption set, after the last change
    bool reachedThreshold = false;
    double seconds = 0.0; ///< the encryption loop alone
    int64_t encryptedCount() const { return int64_t(key.entries.size()); }
};

/**
 * Locks a model. "paper" mode is AdvParams Algorithm 1: for each layer of the
 * set, up to I times, perturbs the weight with the largest loss gradient by
 * theta * (max - min) in the gradient's direction, clipped to [T1, T2];
 * stops when the encryption-set loss exceeds T_loss. "strong" mode picks
 * swaps of two weights of one layer jointly over all layers (first-order gain,
 * then the measured gain of the best few), so each layer keeps its values; it
 * never repeats a weight and stops at a target accuracy or a weight budget. Both work on a
 * copy: cancelling or failing leaves `model` untouched. The key is verified to
 * restore the original bit for bit before it is returned.
 */
Expected<LockResult> lockModel(
    const Model &model, const Dataset &encryptionSet, const LockOptions &options, Progress &progress);

/**
 * The same lock on `model`'s own weights, for callers that own the model (one just read from a file): no copy,
 * so the lock's peak is the model, its gradients and one chunk's activations. `result.locked` shares the weights
 * with `model`. On failure or cancel every weight is put back bit for bit.
 */
Expected<LockResult> lockModelInPlace(
    Model &model, const Dataset &encryptionSet, const LockOptions &options, Progress &progress);

/** The encryption set D_e a lock with these settings draws from the training split (reproducible by seed). */
Expected<Dataset> drawEncryptionSet(const Dataset &train, const LockSettings &settings);

/** The strong mode's weight budget: the explicit one, or min(64, 0.01% of the parameters). */
int64_t strongModeBudget(const LockSettings &settings, int64_t parameterCount);

/**
 * The strong mode's stop: the explicit target accuracy, or 0.8 x random guess on the encryption set. The lock is
 * fitted to those N images, so images it never saw score higher: up to 2.2 points at N = 300 (the DenseNet's seed 2
 * stopped at 10.0% on the encryption set and scored 12.2% on the test set); 0.8 keeps that margin below the
 * 1.2 x random guess a locked model may score.
 */
double strongModeTarget(const LockSettings &settings, int classes);

/** Resolves the layer set: the explicit list (validated) or k random conv/FC layers drawn with the seed. */
Expected<std::vector<std::string>> resolveLayerSet(
    const Model &model, const LockSettings &settings, std::vector<std::string> *notes = nullptr);

/**
 * Writes the key, then the locked model, each atomically. Refuses to write
 * over `protectedPaths` or to give both outputs the same path; if the model
 * cannot be written, the key just written is removed again, so that a
 * failure never leaves half a lock behind (a key that was there before is
 * put back). `keyText` is the key as written (e.g. sealed with a password);
 * empty writes the plain key.
 */
Expected<void> saveLock(const LockResult &result, const std::string &modelPath, const std::string &keyPath,
    const std::vector<std::string> &protectedPaths, const std::string &keyText = {});

/** Whether a key fits a model, and why not. */
struct KeyFit
{
    enum class State { Fits, AlreadyUnlocked, OtherModel, BadEntries };
    State state = State::OtherModel;
    std::string message;
    std::string modelFingerprint;
    bool fits() const { return state == State::Fits; }
};

KeyFit checkKey(const Model &model, const SecretKey &key);

/** Where an unlock's time goes, for the benchmark. */
struct UnlockTiming
{
    double checkSeconds = 0.0; ///< fingerprint of the locked model and the key's entries
    double copySeconds = 0.0; ///< the private copy of the weights (0 in place)
    double applySeconds = 0.0; ///< subtracting the perturbations (Algorithm 2 itself)
    double verifySeconds = 0.0; ///< fingerprint of the result against the original's
};

/** Algorithm 2: subtracts every perturbation on a copy and verifies the original fingerprint. */
Expected<Model> unlockModel(const Model &locked, const SecretKey &key, UnlockTiming *timing = nullptr);

/**
 * Algorithm 2 on the model itself, for callers that own it (a model just read from a file): no copy of the
 * weights. On any failure the model is left exactly as it was (locked).
 */
Expected<void> unlockInPlace(Model &model, const SecretKey &key, UnlockTiming *timing = nullptr);

/**
 * The floor of one lock iteration: seconds of one forward and backward pass
 * of the encryption set (in chunks of `batchSize`) with only `layers`
 * requiring a gradient: the median of `repeats` after a warm-up pass. With no
 * layers, the forward pass alone without a gradient (a lookahead measurement).
 */
Expected<double> gradientPassSeconds(const Model &model, const Dataset &encryptionSet,
    const std::vector<std::string> &layers, int batchSize, int repeats = 3);

} // namespace paramlock
