#pragma once

// NNSplitter (Zhou, Luo, Ren, Xu, ICML 2023): a few weights inside chosen filters, those whose values lie in a
// narrow window around a constant, are optimised by gradient ascent until the model is useless; their original
// values are the key. The method's own API, for its tests and the benchmark; front ends reach it through the method
// seam (protectionmethod.h).

#include "dataset.h"
#include "expected.h"
#include "lockresult.h"
#include "model.h"
#include "parameters.h"
#include "progress.h"
#include "secretkey.h"

#include <cstdint>
#include <string>
#include <vector>

namespace paramlock {

class ProtectionMethod;
/** NNSplitter behind the method seam (the registry's entry). */
const ProtectionMethod &nnSplitterMethod();

/** How the filters to obfuscate are chosen. */
enum class FilterSelector {
    Saliency, ///< rank each layer's filters by the gradient mass of their window weights (one pass)
    Random, ///< best of N random draws, each scored by a short obfuscation
    Reinforce, ///< the paper's controller: a policy over each layer's filters, trained by REINFORCE
};
std::string selectorId(FilterSelector selector);
Expected<FilterSelector> selectorFromId(const std::string &id);

/** Where an obfuscated weight may go. */
enum class ClampRange {
    Model, ///< the model-wide weight range [w_min, w_max] (the authors' code)
    Layer, ///< its own layer's range, so that no layer's range changes
};
std::string clampRangeId(ClampRange range);

/** The hyperparameters of an NNSplitter lock; every default is written here and nowhere else. */
struct NNSplitterSettings
{
    FilterSelector selector = FilterSelector::Saliency;
    int filtersPerLayer = 1; ///< k output filters per eligible layer (the paper's for ResNet-18)
    bool pointwise = false; ///< 1x1 convolutions are eligible too
    int64_t maxWeights = 0; ///< the number of weights the window takes (0: nnSplitterBudget())
    double centre = 0.0; ///< the window's centre c (0: the mean of the convolution weights)
    double window = 0.0; ///< its half-width eps (0: chosen so that the window holds maxWeights weights)
    ClampRange range = ClampRange::Model;
    double learningRate = 0.05; ///< Adam's step (the authors')
    int64_t samples = 5000; ///< training images per epoch
    int64_t validation = 1000; ///< validation images, drawn from the training split apart from the samples
    int batchSize = 128; ///< images per Adam step
    int maxEpochs = 20;
    int patience = 2; ///< stop after this many epochs without a further drop of the validation accuracy
    int restarts = 2; ///< a lock left above 1.2 x random guess starts again from the originals, another batch order
    double targetAccuracy = 0.0; ///< stop at once at this validation accuracy (0: random guess)
    int draws = 10; ///< Random: filter sets drawn; Reinforce: episodes (5 per policy update)
    int probeEpochs = 1; ///< epochs of the short obfuscation that scores a draw or an episode
    int64_t probeSamples = 1000; ///< training images of that short obfuscation
    uint64_t seed = 0; ///< the sample's draw, the shuffling and the selectors' draws (the request's)
};

/** Episodes per policy update of the Reinforce selector (the authors' controller). */
constexpr int kEpisodesPerUpdate = 5;

/** One layer NNSplitter may obfuscate, and its filters. */
struct EligibleLayer
{
    std::string layer; ///< the weight's name, e.g. "features.0.weight"
    int64_t filters = 0; ///< output filters (rows of a linear weight)
    int64_t filterSize = 0; ///< weights per filter
};

/** The conv/FC weights NNSplitter works on: 3x3+ convolutions and linear layers (1x1 convolutions on request). */
std::vector<EligibleLayer> eligibleLayers(const Model &model, bool pointwise);

/** The chosen filters: for each eligible layer (in model order), the indices of its chosen filters, sorted. */
using FilterChoice = std::vector<std::vector<int64_t>>;

/** The obfuscated weights of one layer. */
struct MaskedLayer
{
    std::string layer;
    std::vector<int64_t> indices; ///< flat, sorted
};

/** The window: which weights of the chosen filters are obfuscated. */
struct WindowMask
{
    double centre = 0.0;
    double window = 0.0; ///< every masked weight has |w - centre| <= window
    std::vector<MaskedLayer> layers; ///< layers with at least one masked weight
    int64_t count() const;
};

/**
 * Which weights of each eligible layer (in model order, by flat index) the data reaches at all: a weight whose
 * gradient is exactly zero on every image can never be moved by the ascent (a 3x3 kernel's outer taps on a 1x1
 * feature map see only padding). Empty: every weight counts as live.
 */
using LiveWeights = std::vector<std::vector<bool>>;

/**
 * The mask inside the chosen filters. With an explicit window (settings.window > 0) it takes every weight with
 * |w - c| < eps; otherwise the `budget` weights nearest c (ties by layer, then by index), and `window` is the largest
 * distance taken. `centre` is c, already resolved. Weights `live` marks dead are never taken.
 */
Expected<WindowMask> windowMask(const Model &model, const std::vector<EligibleLayer> &layers,
    const FilterChoice &choice, double centre, double window, int64_t budget, const LiveWeights &live = {});

/** The window's centre: the explicit one, or the mean of the convolution weights (of all eligible ones without). */
double windowCentre(const Model &model, const NNSplitterSettings &settings);

/** The weight budget: the explicit one, or 0.01% of the parameters, at least 64 and at most 4096. */
int64_t nnSplitterBudget(const NNSplitterSettings &settings, int64_t parameterCount);
/** The budget's rule in words, for help texts. */
std::string nnSplitterBudgetRule();

/** One obfuscated weight: where it is and its original value. */
struct OriginalValue
{
    std::string layer;
    int64_t index = 0;
    float value = 0.0f; ///< the original, restored bit for bit
};

/** NNSplitter's key payload: the settings, the window and the original value of every obfuscated weight. */
struct NNSplitterKey
{
    NNSplitterSettings settings;
    double centre = 0.0; ///< as resolved
    double window = 0.0;
    std::vector<std::pair<std::string, std::vector<int64_t>>> filters; ///< chosen filters by layer
    std::vector<OriginalValue> entries;

    std::string toPayload() const;
    static Expected<NNSplitterKey> of(const SecretKey &key);
};

/** One epoch of the obfuscation. */
struct ObfuscationEpoch
{
    int epoch = 0; ///< 0: before the first step
    double trainLoss = 0.0; ///< mean cross-entropy over the epoch's batches (what the ascent raises); 0 at epoch 0
    double validationLoss = 0.0; ///< mean cross-entropy on the validation split after the epoch
    double validationAccuracy = 0.0;
    double seconds = 0.0;
};

/** A selector's search: what each draw or episode scored. */
struct SelectionTrial
{
    int episode = 0;
    double validationAccuracy = 0.0; ///< after the probe's obfuscation
};

/** An NNSplitter lock: the common result, the typed key and its history. */
struct NNSplitterLock : LockResult
{
    NNSplitterKey secret;
    std::vector<ObfuscationEpoch> epochs;
    std::vector<SelectionTrial> trials;
    double selectionSeconds = 0.0; ///< choosing the filters (included in `seconds`)
    int bestEpoch = 0; ///< the epoch whose weights were kept
    int attempts = 1; ///< ascents run (1 + the restarts it needed)
};

/**
 * Locks a model. `sample` is the method's training data: its first `settings.samples` images train the ascent, the
 * rest are the validation split (see drawSample()). On a copy unless `inPlace`; cancelling or failing leaves `model`
 * as it was. The key is verified to restore the original bit for bit before it is returned.
 */
Expected<NNSplitterLock> nnSplitterLock(
    Model &model, bool inPlace, const Dataset &sample, const NNSplitterSettings &settings, Progress &progress);

/**
 * The sample a lock with these settings draws from the training split: `samples` training images followed by
 * `validation` others, reproducible by seed. On a split smaller than both, it is shared in the same proportion.
 */
Expected<std::vector<int64_t>> nnSplitterSample(const Dataset &train, const NNSplitterSettings &settings);
/** How many of a sample's images are for training (the rest validate): the split nnSplitterSample() drew. */
int64_t trainingPart(int64_t sampleSize, const NNSplitterSettings &settings);

/** The NNSplitter settings a generic request stands for. */
Expected<NNSplitterSettings> nnSplitterSettings(const ParameterValues &values);
ParameterValues valuesOfSettings(const NNSplitterSettings &settings);

} // namespace paramlock
