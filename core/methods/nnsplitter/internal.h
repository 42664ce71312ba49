#pragma once

// Internal to NNSplitter: the parameter table, the lock's data as tensors, the obfuscated weights while the ascent
// runs, the ascent itself (ascent.cpp) and the filter selectors (selection.cpp).

#include "modelimpl.h"
#include "nnsplitter.h"
#include "keyedmethod.h"
#include "parametertable.h"

#include <string>
#include <vector>

namespace paramlock::nnsplitter {

/** The id of the method in key files and on the command line. */
constexpr const char *kMethodId = "nnsplitter";

/** The method's parameters bound to NNSplitterSettings (method.cpp). */
const ParameterTable<NNSplitterSettings> &parameterTable();

/** The lock's images as tensors ready for the model: the training part and the validation split. */
struct LockData
{
    torch::Tensor trainInputs, trainLabels;
    torch::Tensor validInputs, validLabels;
    int64_t trainCount() const { return trainInputs.size(0); }
};
LockData lockData(const Model &model, const Dataset &sample, const NNSplitterSettings &settings);

/** The obfuscated weights of one layer while the ascent runs: positions, originals and where they may go. */
struct MaskedWeights
{
    std::string layer;
    torch::Tensor weight; ///< shares the model's storage
    float *data = nullptr;
    std::vector<int64_t> indices; ///< flat, sorted
    torch::Tensor indexTensor; ///< the same, for gathering the gradient
    std::vector<float> original;
    float low = 0.0f, high = 0.0f; ///< the clamp range
};

/** The masked weights of `mask` in `impl`, with their originals and the clamp range the settings ask for. */
std::vector<MaskedWeights> maskedWeights(ModelImpl &impl, const WindowMask &mask, ClampRange range);
/** Writes every masked weight's original value back. */
void putBackOriginals(std::vector<MaskedWeights> &masked);

/** Puts the originals back unless the ascent's result was accepted: cancel and failure change nothing. */
struct OriginalsGuard
{
    std::vector<MaskedWeights> &masked;
    bool accepted = false;
    ~OriginalsGuard()
    {
        if (!accepted)
            putBackOriginals(masked);
    }
};

/** The ascent's outcome; the best (lowest validation accuracy) state is left in the weights. */
struct AscentResult
{
    std::vector<ObfuscationEpoch> epochs; ///< epoch 0 is the state before the first step
    double bestAccuracy = 1.0;
    int bestEpoch = 0;
    std::string stop; ///< why it stopped, in the user's words
};

/** How far along the whole lock an ascent's progress is: fraction = base + span x its own. */
struct AscentSpan
{
    double base = 0.0;
    double span = 1.0;
    std::string label;
    bool reportEpochs = false; ///< send each epoch to the live chart (the final ascent, not the selectors' probes)
    int attempt = 0; ///< the final ascent's attempt (0: the first; later ones are restarts), the chart's stage
    int epochOffset = 0; ///< epochs of the earlier attempts, so that the chart's x axis runs on
};

/**
 * Gradient ascent of the cross-entropy on the masked weights alone (METHODS.md §2, step 4): Adam, each masked weight
 * clamped to its range after every step, the model in eval mode; each epoch a shuffled pass over the training part,
 * then the validation split; at most `epochs`, stopping once the validation accuracy is at most `target` or after
 * `patience` epochs without a further drop. The lowest-accuracy state is kept.
 */
Expected<AscentResult> runAscent(ModelImpl &impl, std::vector<MaskedWeights> &masked, const LockData &data,
    const NNSplitterSettings &settings, int epochs, double target, uint64_t seed, Progress &progress,
    const AscentSpan &span);

/** Accuracy on the validation split, in inference mode, and its mean cross-entropy where asked. */
double validationAccuracy(ModelImpl &impl, const LockData &data, double *loss = nullptr);

/**
 * The gradient of the cross-entropy with respect to each eligible layer's weight, summed over the first images of the
 * training part (one pass, a fraction of an epoch): the saliency selector's ranking, and which weights are live.
 */
Expected<std::vector<torch::Tensor>> firstGradients(
    ModelImpl &impl, const std::vector<EligibleLayer> &layers, const LockData &data, int batchSize, Progress &progress);
/** The weights with a non-zero gradient in `gradients` (one tensor per eligible layer). */
LiveWeights liveWeights(const std::vector<torch::Tensor> &gradients);

/** What the selectors need besides the model and the data. */
struct SelectionContext
{
    const Model &model; ///< the working copy (its weights are put back after every probe)
    const std::vector<EligibleLayer> &layers;
    const LockData &data;
    const NNSplitterSettings &settings;
    double centre = 0.0;
    int64_t budget = 0;
    double target = 0.0;
    Progress &progress;
    const std::vector<torch::Tensor> &gradients; ///< firstGradients()
    const LiveWeights &live; ///< the window never takes a weight the data does not reach
};

/**
 * Chooses k filters per eligible layer with the settings' selector (selection.cpp). For a search, `start` receives
 * the masked weights' values where its best probe ended (in the mask's order): the final ascent goes on from there,
 * since the ascent is chaotic (the same filters with another batch order can end anywhere). Empty for saliency.
 */
Expected<FilterChoice> chooseFilters(
    const SelectionContext &context, std::vector<SelectionTrial> &trials, std::vector<float> &start);

/** Whether every entry of the key names a weight of `model` (restore.cpp). */
KeyFit checkEntries(const Model &model, const NNSplitterKey &secret);
/** Writes the originals back, verified by the original's fingerprint; on a mismatch the model is left locked. */
Expected<void> restoreOriginals(Model &model, const SecretKey &key, const NNSplitterKey &secret, UnlockTiming &timing);

} // namespace paramlock::nnsplitter
