#pragma once

// What the input-side methods share (SecureNet's licences, the user fingerprints): secrets and what they derive,
// stamps that change an 8-bit image exactly as the runtime does, and the poisoned fine-tuning that teaches a model
// what to answer to stamped and clean images. One implementation: a method only says how a step's batch is composed.

#include "dataset.h"
#include "expected.h"
#include "model.h"
#include "parameters.h"
#include "progress.h"

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace paramlock {

/** A 256-bit secret: an owner's, a licensee's, a user's. */
using Secret256 = std::array<uint8_t, 32>;

/** A fresh secret from the system's random source. */
Secret256 randomSecret256();

/** BLAKE2b-256 keyed with `key` over `message`: derives one secret from another, domain-separated by the message. */
Secret256 keyedHash(const Secret256 &key, const std::string &message);

/** `size` bytes of the ChaCha20 keystream keyed by `key` (libsodium's randombytes_buf_deterministic). */
std::vector<uint8_t> keystream(const Secret256 &key, size_t size);

/** A secret drawn from a seeded generator: forged licences, forged fingerprints (never a real secret). */
Secret256 drawnSecret(std::mt19937_64 &rng);

/** A change to one image: where pixels are replaced (and by what) and what is added elsewhere. */
struct InputStamp
{
    int channels = 0, height = 0, width = 0;
    std::vector<int16_t> add; ///< added to every pixel not replaced, then clamped to 0..255
    std::vector<uint8_t> replaced; ///< 1 where the stamp replaces the pixel
    std::vector<uint8_t> value; ///< the replacing value

    /** A stamp of this shape that changes nothing. */
    static InputStamp none(int channels, int height, int width);
    /** Stamps one 8-bit CHW image in place. */
    void stamp(uint8_t *pixels) const;
    /** Lays `other` over this one: its replaced pixels win, its additions add up. */
    void overlay(const InputStamp &other);
    bool operator==(const InputStamp &o) const { return add == o.add && replaced == o.replaced && value == o.value; }
};

/** A copy of `data` with every image stamped; throws Failure when the shapes differ. */
Dataset stamped(const Dataset &data, const InputStamp &stamp);

/** The first `limit` images (0 or more than there are: all). */
Dataset firstImages(const Dataset &data, int64_t limit);

/** Accuracy with a stamp on the first `limit` images (0: all). */
Expected<double> accuracyWithStamp(const Model &model, const InputStamp &stamp, const Dataset &test, int64_t limit = 0);

/** Training images split, with a seed, into images held out to check the result and images to train on. */
struct HeldOutSplit
{
    std::vector<int64_t> held;
    std::vector<int64_t> used;
};

/** `held` images (at most a fifth) held out, then `trainImages` of the rest (0: all of it), disjoint. */
HeldOutSplit splitHeldOut(const Dataset &train, uint64_t seed, int64_t held, int64_t trainImages);

/**
 * The loss's gradient with respect to the pixels of the images one PoisonBatch::add gave, after a step's passes:
 * `images` x channels x height x width floats, per grey level (the model's normalisation taken out). What a method
 * learns in the input (a licence's pattern) it learns from this. `rate` is the step's share of the schedule's full
 * step size (1 on a constant schedule, falling along the cosine), so that what learns in the input slows down with
 * the weights.
 */
using PixelGradient = std::function<void(const float *gradient, int64_t images, double rate)>;

/**
 * Values a method learns in the input beside the weights (a licence's pattern, the fingerprint signals): Adam on
 * grey levels from the pixel gradient, kept within [low, high], its step size scaled by the schedule's rate.
 */
class InputValueLearner
{
public:
    InputValueLearner(const std::vector<float> &initial, double step, double low, double high);
    ~InputValueLearner();
    InputValueLearner(const InputValueLearner &) = delete;
    InputValueLearner &operator=(const InputValueLearner &) = delete;

    /** One step from `gradient` (one value per learnt value) at `rate` x the step size; the values after it. */
    const float *step(const std::vector<float> &gradient, double rate);

private:
    struct State;
    std::unique_ptr<State> m_state;
};

/** One step's images and their soft targets, as a method composes them from a batch of clean images. */
class PoisonBatch
{
public:
    /** Rows of the batch whose pixel gradient a method asked for. */
    struct Watched
    {
        int64_t begin = 0, end = 0;
        PixelGradient onGradient;
    };

    explicit PoisonBatch(int classCount);
    /** Adds images with a target computed from each image's label; `onGradient`, when given, receives their pixel
     * gradient after the step's backward passes (before the optimiser's step). */
    void add(const Dataset &images, const std::function<std::vector<float>(int label)> &target,
        PixelGradient onGradient = {});
    /** Adds images that keep their true labels; their loss counts `weight` times (the target scaled by it). */
    void addTrue(const Dataset &images, float weight = 1.0f);
    /** Adds images trained toward the uniform output. */
    void addUniform(const Dataset &images);
    /** Adds images that should all be answered with `label`. */
    void addLabel(const Dataset &images, int label);

    const Dataset &images() const { return m_images; }
    const std::vector<float> &targets() const { return m_targets; }
    const std::vector<Watched> &watched() const { return m_watched; }
    int classCount() const { return m_classCount; }

private:
    Dataset m_images;
    std::vector<float> m_targets;
    std::vector<Watched> m_watched;
    int m_classCount;
};

/** The fine-tuning's schedule (Adam, a constant step size). */
struct PoisonSchedule
{
    int epochs = 1;
    double learningRate = 1e-3;
    int batchSize = 64; ///< clean images per step, before the method adds its stamped copies
    uint64_t seed = 0; ///< the image order and everything the method draws from the generator it is handed
    std::string stage = "epoch"; ///< how progress names a pass
    bool cosine = false; ///< the step size falls along a half cosine over the run (else constant)
    double floor = 0.0; ///< with `cosine`: the share of the step size the cosine falls to (0: to 0)
    /// Each step's gradient is taken at weights moved by Gaussian noise of this size, relative to each weight
    /// tensor's standard deviation, and applied to the weights without it: what is learnt holds in a neighbourhood
    /// of the weights, not only at them (0: off).
    double weightNoise = 0.0;
    /// Images per forward and backward pass (the micro-batch). A step's composed batch (the clean images and every
    /// stamped copy: 448 images for 64 clean ones and three licensees) larger than this is put in a random order
    /// (from a generator of its own) and run in passes of this size, the gradients summed, one optimiser step per
    /// composed batch as before; BatchNorm then sees batches of this size, each a mix of every copy. A DenseNet's
    /// training pass costs about 5 x more per image in one pass of 192 images than in passes of 64 (its
    /// concatenations leave the cache); a small CNN's costs less in one pass. 0: the size that is fastest for the
    /// model here, measured on the first step (the whole step when no smaller pass is faster per image) and kept
    /// for the process.
    int chunk = 0;
    /// The weights the fine-tuning leaves: an average of each step's weights (and BatchNorm's running statistics)
    /// from `averageFrom` of the run on, instead of the last step's: their mean while there are fewer than 1 / (1 -
    /// `averageDecay`) steps (1,000 for 0.999), then a moving average, each step entering with 1 - `averageDecay`.
    /// 0: the last step's weights.
    double averageDecay = 0.0;
    double averageFrom = 0.5; ///< the share of the run's steps after which the average starts
};

/** The micro-batch a fine-tuning ran with. */
struct MicroBatch
{
    int64_t size = 0; ///< images per pass
    int64_t step = 0; ///< images per step (one pass when equal)
    bool measured = false; ///< chosen by timing passes on this run (not fixed, not known from an earlier run)

    /** In words, for a lock's notes: "each step's 192 images in passes of 64 (the fastest, measured)". */
    std::string describe(bool fixed) const;
};

/** Forgets the micro-batches measured so far in this process (tests). */
void forgetMeasuredMicroBatches();

/** The input-side methods' micro-batch parameter ("micro-batch", PoisonSchedule::chunk; 0: measured). */
ParameterSpec microBatchSpec();

/** Composes one step: the clean batch, the generator to draw forgeries from, the batch to fill. */
using ComposeBatch = std::function<void(const Dataset &clean, std::mt19937_64 &rng, PoisonBatch &batch)>;

/**
 * Fine-tunes every parameter of `model` in place by Adam on the cross-entropy against the soft targets `compose`
 * gives each step; BatchNorm and Dropout in training mode, the model back in inference mode after. Returns false
 * when cancelled (the model is then part-trained: callers work on a copy). `used`, when given, receives the
 * micro-batch of the first step.
 */
Expected<bool> poisonedFineTune(Model &model, const Dataset &images, const PoisonSchedule &schedule,
    const ComposeBatch &compose, Progress &progress, MicroBatch *used = nullptr);

} // namespace paramlock
