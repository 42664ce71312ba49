#pragma once

// Internal to AdvParams: the state one lock runs on (the working model, the encryption set in chunks, the layers)
// and the chunked encryption-set pass that both modes share (encryptionpass.cpp).

#include "advparams.h"
#include "modelimpl.h"
#include "weightsearch.h"

#include <map>
#include <string>
#include <vector>

namespace paramlock::advparams {

/** One chunk of the encryption set, as tensors ready for the model. */
struct Chunk
{
    torch::Tensor inputs;
    torch::Tensor labels;
};
std::vector<Chunk> makeChunks(const Model &model, const Dataset &data, int batchSize);

/** One layer of the encrypted set while the lock runs. */
struct LayerState
{
    torch::Tensor weight;
    float *data = nullptr;
    LayerLockReport report;
    std::map<int64_t, float> originals; ///< first value of every weight touched
    std::vector<int64_t> excluded; ///< never to be picked again, sorted
    bool bounded = false; ///< only weights inside [T1, T2] may be picked (strong mode)

    Eligibility eligibility() const
    {
        return {data, report.count, &excluded, bounded, float(report.lowerBound), float(report.upperBound)};
    }
    /** The gradient of the last pass; nullptr when the loss does not depend on this layer. */
    const float *gradient() const;
};

/** Everything both modes share: the working model, the encryption set and the layers. */
struct LockRun
{
    const AdvParamsSettings &settings;
    ModelImpl &impl;
    std::vector<Chunk> chunks;
    int64_t total = 0;
    std::vector<LayerState> layers;
    AdvParamsLock &result;
    Progress &progress;
    /** Reuse the activations below the changed layers (zoo models; TorchScript has one stage). */
    bool reuseActivations = true;
    int startStage = 0; ///< the stage the cached inputs enter
    std::vector<torch::Tensor> cached; ///< per chunk: the input of `startStage`
    /** Strong mode: the encryption-set accuracy the lock stops at, reported with each step (-1: none). */
    double targetAccuracy = -1.0;
};

/** While only weights at or above `stage` change, the activations entering it are computed once per chunk. */
void startAt(LockRun &run, int stage);

/**
 * Mean cross-entropy over the encryption set, its gradient for every weight that requires grad, and how many samples
 * the model still gets right, all from one forward pass (the paper mode's pass).
 */
double lossGradientAccuracy(LockRun &run, int64_t *correct, bool withGradient = true);

/** The mean capped margin of the encryption set as the weights stand now: forward passes only. */
double marginNow(LockRun &run);

/**
 * The encryption set's activations entering `stage` (>= run.startStage), per chunk; with `from` (entering `fromStage`,
 * between run.startStage and `stage`) they are carried on from there instead of from the cached inputs.
 */
std::vector<torch::Tensor> activationsAt(
    LockRun &run, int stage, const std::vector<torch::Tensor> *from = nullptr, int fromStage = 0);
/**
 * marginNow() computed from the activations entering `stage` (activationsAt()): the same value, bit for bit, while
 * only weights at or above `stage` differ from when they were computed.
 */
double marginFrom(LockRun &run, int stage, const std::vector<torch::Tensor> &inputs);

/** The margin cap of the strong mode's objective: samples wrong by more add no gradient. */
constexpr double kMarginCap = 2.0;

/** The whole encryption set scored as the weights stand now. */
struct SetScores
{
    double loss = 0.0; ///< mean cross-entropy
    int64_t correct = 0;
    double margin = 0.0; ///< mean capped margin
    std::vector<float> rawMargins; ///< per sample, in set order: best other logit - true logit, not capped
};
/**
 * Scores every sample with one forward pass; `withGradient`: and takes the gradient of the mean capped margin for
 * every weight that requires grad.
 */
SetScores scoreSet(LockRun &run, bool withGradient);

/**
 * Narrows a run to some samples of its encryption set (positions in set order) while it lives: the passes above
 * (gradient, marginNow, activationsAt, marginFrom) read only them, normalised by their count. The chunks keep the
 * run's chunk size.
 */
class SampleScope
{
public:
    SampleScope(LockRun &run, const std::vector<int64_t> &positions);
    ~SampleScope();
    SampleScope(const SampleScope &) = delete;
    SampleScope &operator=(const SampleScope &) = delete;

private:
    LockRun &run_;
    std::vector<Chunk> chunks_;
    std::vector<torch::Tensor> cached_;
    int64_t total_;
};

/** Records a step, tells the progress sink; false when the user cancelled. */
bool report(LockRun &run, const AdvParamsStep &step, double fraction);
/** Tells the progress sink about a step without recording it (the paper's stop check). */
void announce(LockRun &run, const AdvParamsStep &step);

/** Sets one weight, remembering its first value so that a failed lock can put it back. */
void setWeight(LayerState &layer, int64_t index, float value);

/** One key entry per distinct changed weight, exact in double, and the layers' reports (keybuilding.cpp). */
void buildEntries(LockRun &run);
/** The settings and the entries as AdvParams' payload, in the envelope with the fingerprints. */
void wrapKey(LockRun &run, const std::vector<std::string> &layerSet, const std::string &originalFingerprint);

/** Algorithm 1 (algorithm1.cpp). */
Expected<void> runPaperMode(LockRun &run);
/** The strong mode (strongmode.cpp). */
Expected<void> runStrongMode(LockRun &run, int64_t budget, double targetAccuracy);

/** Every conv/FC weight of a model, by name, as raw floats. */
std::map<std::string, float *> weightData(const ModelImpl &impl);
/** Algorithm 2 on raw weights: subtracts every perturbation and returns the values it replaced (algorithm2.cpp). */
std::vector<float> subtractKey(const std::map<std::string, float *> &data, const std::vector<KeyEntry> &entries);
/** Undoes subtractKey() exactly: puts the replaced values back, last entry first. */
void putBack(const std::map<std::string, float *> &data, const std::vector<KeyEntry> &entries,
    const std::vector<float> &replaced);

} // namespace paramlock::advparams
