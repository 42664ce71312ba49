// An NNSplitter lock from end to end: the settings checked, the eligible layers found, the filters chosen, the window
// mask drawn, the ascent run, the key built from every weight whose value changed (its original, bit for bit) and
// proven to restore the original before anything is returned. Cancel and failure leave the model as it was.
#include "internal.h"

#include "lockworkflow.h"
#include "text.h"
#include "training.h"

#include <QString>

#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>

namespace paramlock {

using namespace nnsplitter;

std::string selectorId(FilterSelector selector)
{
    switch (selector) {
    case FilterSelector::Random:
        return "random";
    case FilterSelector::Reinforce:
        return "reinforce";
    case FilterSelector::Saliency:
        break;
    }
    return "saliency";
}

Expected<FilterSelector> selectorFromId(const std::string &id)
{
    for (FilterSelector s : {FilterSelector::Saliency, FilterSelector::Random, FilterSelector::Reinforce})
        if (selectorId(s) == id)
            return s;
    return Error{"unknown filter selector \"" + id + "\" (available: saliency, random, reinforce)"};
}

std::string clampRangeId(ClampRange range)
{
    return range == ClampRange::Layer ? "layer" : "model";
}

int64_t trainingPart(int64_t sampleSize, const NNSplitterSettings &settings)
{
    const int64_t wanted = settings.samples + settings.validation;
    if (sampleSize >= wanted)
        return settings.samples;
    const int64_t part = sampleSize * settings.samples / std::max<int64_t>(1, wanted);
    return std::clamp<int64_t>(part, 1, std::max<int64_t>(1, sampleSize - 1));
}

Expected<std::vector<int64_t>> nnSplitterSample(const Dataset &train, const NNSplitterSettings &settings)
{
    if (train.size() < 2)
        return Error{"NNSplitter needs at least two training images (one to train on, one to validate)"};
    SamplingOptions sampling;
    sampling.count = std::min<int64_t>(train.size(), settings.samples + settings.validation);
    sampling.seed = settings.seed;
    // A uniform draw: its first part trains, the rest validates, so both are uniform and disjoint.
    return sampleIndices(train, sampling);
}

namespace {

Expected<void> validate(const NNSplitterSettings &s)
{
    if (s.filtersPerLayer < 1 || s.samples < 1 || s.validation < 1 || s.batchSize < 1 || s.maxEpochs < 1
        || s.patience < 1 || s.restarts < 0 || s.draws < 1 || s.probeEpochs < 1 || s.probeSamples < 1)
        return Error{"the filter count, the image counts, the batch size, the epochs, the patience and the draws "
                     "must each be at least 1"};
    if (s.maxWeights < 0 || s.window < 0.0 || !std::isfinite(s.window) || !std::isfinite(s.centre))
        return Error{"the weight budget and the window must be >= 0 and finite"};
    if (!(s.learningRate > 0.0) || !std::isfinite(s.learningRate))
        return Error{"the learning rate must be a positive number"};
    if (!(s.targetAccuracy >= 0.0 && s.targetAccuracy < 1.0))
        return Error{"the target accuracy must be in [0, 1)"};
    return {};
}

uint32_t bitsOf(float f)
{
    uint32_t bits = 0;
    std::memcpy(&bits, &f, sizeof(bits));
    return bits;
}

/** The key's entries and the layers' reports: every masked weight whose bits changed. */
void buildKey(NNSplitterLock &result, std::vector<MaskedWeights> &masked)
{
    for (MaskedWeights &w : masked) {
        LayerLockReport rep;
        rep.layer = w.layer;
        rep.count = w.weight.numel();
        // The layer's range before the lock: the locked values are put back for the measurement.
        std::vector<float> locked;
        for (int64_t i : w.indices)
            locked.push_back(w.data[i]);
        for (size_t i = 0; i < w.indices.size(); ++i)
            w.data[w.indices[i]] = w.original[i];
        rep.min = w.weight.min().item<float>();
        rep.max = w.weight.max().item<float>();
        summarise(w.weight, rep.meanBefore, rep.stdBefore);
        for (size_t i = 0; i < w.indices.size(); ++i)
            w.data[w.indices[i]] = locked[i];
        summarise(w.weight, rep.meanAfter, rep.stdAfter);
        rep.lowerBound = w.low;
        rep.upperBound = w.high;
        rep.steps = int(result.epochs.size()) - 1;
        for (size_t i = 0; i < w.indices.size(); ++i) {
            if (bitsOf(locked[i]) == bitsOf(w.original[i]))
                continue;
            result.secret.entries.push_back({w.layer, w.indices[i], w.original[i]});
            rep.positions.push_back(w.indices[i]);
            rep.before.push_back(w.original[i]);
            rep.after.push_back(locked[i]);
        }
        result.layers.push_back(std::move(rep));
    }
}

} // namespace

Expected<NNSplitterLock> nnSplitterLock(
    Model &model, bool inPlace, const Dataset &sample, const NNSplitterSettings &settings, Progress &progress)
{
    if (auto ok = validate(settings); !ok)
        return Error{ok.error()};
    if (sample.size() < 2)
        return Error{"NNSplitter needs at least two training images (one to train on, one to validate)"};
    if (auto ok = checkCompatible(model, sample); !ok)
        return Error{ok.error()};
    const std::vector<EligibleLayer> layers = eligibleLayers(model, settings.pointwise);
    if (layers.empty())
        return Error{"the model has no layer NNSplitter can obfuscate (3x3 or larger convolutions, fully-connected "
                     "layers; 1x1 convolutions with --pointwise)"};

    return guarded("locking failed", [&]() -> Expected<NNSplitterLock> {
        NNSplitterLock result;
        const auto start = std::chrono::steady_clock::now();
        result.locked = inPlace ? model : model.clone();
        ModelImpl &impl = result.locked.impl();
        impl.setTraining(false);
        const std::string originalFingerprint = model.fingerprint();
        GradientScope restoreFlags(impl);
        const LockData data = lockData(result.locked, sample, settings);
        const int classes =
            std::max(2, model.metadata().classCount > 0 ? model.metadata().classCount : sample.classCount);
        const double randomGuess = 1.0 / double(classes);
        const double target = settings.targetAccuracy > 0.0 ? settings.targetAccuracy : randomGuess;
        const double centre = windowCentre(model, settings);
        const int64_t budget = nnSplitterBudget(settings, model.parameterCount());

        // One gradient pass: the saliency ranking, and the weights the data reaches (the only ones the window takes).
        auto gradients = firstGradients(impl, layers, data, settings.batchSize, progress);
        if (!gradients)
            return Error{gradients.error()};
        const LiveWeights live = liveWeights(*gradients);
        SelectionContext context{
            result.locked, layers, data, settings, centre, budget, target, progress, *gradients, live};
        std::vector<float> probeEnd;
        auto choice = chooseFilters(context, result.trials, probeEnd);
        if (!choice)
            return Error{choice.error()};
        result.selectionSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        auto mask = windowMask(result.locked, layers, *choice, centre, settings.window, budget, live);
        if (!mask)
            return Error{mask.error()};
        std::vector<MaskedWeights> masked = maskedWeights(impl, *mask, settings.range);
        OriginalsGuard putBack{masked};
        if (!probeEnd.empty()) { // a search: go on from where its best probe ended
            size_t k = 0;
            for (MaskedWeights &w : masked)
                for (int64_t i : w.indices)
                    w.data[i] = probeEnd.at(k++);
        }

        // The ascent is chaotic (the same weights with another batch order end anywhere between 10% and 90%): a
        // lock left weak starts again from the originals with another batch order; the best attempt is kept.
        const double useless = kUselessFactor * randomGuess;
        const int attempts = 1 + settings.restarts;
        const double base = settings.selector == FilterSelector::Saliency ? 0.0 : 0.5;
        std::optional<AscentResult> ascent;
        std::vector<float> kept;
        int epochOffset = 0;
        for (int attempt = 0; attempt < attempts; ++attempt) {
            if (attempt > 0)
                putBackOriginals(masked);
            AscentSpan span;
            span.span = (1.0 - base) / double(attempts);
            span.base = base + span.span * double(attempt);
            span.label = "obfuscating " + std::to_string(mask->count()) + " weights"
                + (attempt > 0 ? " (attempt " + std::to_string(attempt + 1) + ")" : std::string());
            span.reportEpochs = true;
            span.attempt = attempt;
            span.epochOffset = epochOffset;
            auto run = runAscent(impl, masked, data, settings, settings.maxEpochs, target,
                settings.seed + uint64_t(attempt) * 0x9e3779b97f4a7c15ULL, progress, span);
            if (!run)
                return Error{run.error()};
            epochOffset += int(run->epochs.size());
            result.attempts = attempt + 1;
            const bool better = !ascent || (run->bestEpoch > 0 && run->bestAccuracy < ascent->bestAccuracy);
            if (better) {
                kept.clear();
                for (const MaskedWeights &w : masked)
                    for (int64_t i : w.indices)
                        kept.push_back(w.data[i]);
                ascent = std::move(*run);
            }
            if (ascent->bestAccuracy <= useless)
                break;
        }
        {
            size_t k = 0;
            for (MaskedWeights &w : masked)
                for (int64_t i : w.indices)
                    w.data[i] = kept.at(k++);
        }
        if (ascent->bestEpoch == 0 && probeEnd.empty())
            return Error{"the obfuscation did not lower the validation accuracy ("
                + percentText(ascent->bestAccuracy, 1) + ") in " + std::to_string(int(ascent->epochs.size()) - 1)
                + " epochs: allow more weights "
                + "(--max-weights), more filters per layer (--filters) or the model-wide range (--range model)"};
        result.epochs = ascent->epochs;
        result.bestEpoch = ascent->bestEpoch;
        result.iterations = int(ascent->epochs.size()) - 1;
        result.initialLoss = ascent->epochs.front().validationLoss;
        result.finalLoss = ascent->epochs[size_t(ascent->bestEpoch)].validationLoss;
        result.finalAccuracy = ascent->bestAccuracy;
        result.reachedTarget = ascent->bestAccuracy <= useless;
        result.stopReason = ascent->stop;
        if (result.attempts > 1 && result.reachedTarget)
            result.stopReason += " (attempt " + std::to_string(result.attempts) + ": the earlier ones stayed above "
                + percentText(useless, 1) + ")";
        else if (result.attempts > 1)
            result.stopReason += " (the best of " + std::to_string(result.attempts) + " attempts)";
        if (!result.reachedTarget)
            result.stopReason += "; the validation accuracy stayed above "
                + percentText(kUselessFactor * randomGuess, 1)
                + ": allow more weights (--max-weights), more filters per layer (--filters) or more epochs";

        buildKey(result, masked);
        if (result.secret.entries.empty())
            return Error{"the obfuscation changed no weight: the gradients at the chosen weights vanished; try "
                         "another seed or a wider window"};
        result.secret.settings = settings;
        result.secret.centre = centre;
        result.secret.window = mask->window;
        for (size_t l = 0; l < layers.size(); ++l)
            if (!(*choice)[l].empty())
                result.secret.filters.emplace_back(layers[l].layer, (*choice)[l]);
        result.key = keyEnvelope(kMethodId, {}, originalFingerprint, result.locked,
            int64_t(result.secret.entries.size()), result.secret.toPayload());

        // The key applied and undone again: proves it restores the original without another copy of the model.
        putBackOriginals(masked);
        const bool exact = result.locked.fingerprint() == originalFingerprint;
        for (MaskedWeights &w : masked) {
            const LayerLockReport *rep = nullptr;
            for (const LayerLockReport &r : result.layers)
                if (r.layer == w.layer)
                    rep = &r;
            for (size_t i = 0; rep && i < rep->positions.size(); ++i)
                w.data[rep->positions[i]] = rep->after[i];
        }
        if (!exact)
            return Error{"internal error: the new key does not restore the original model; nothing was written"};
        if (result.locked.fingerprint() != result.key.lockedFingerprint)
            return Error{"internal error: the locked model changed while its key was checked"};
        putBack.accepted = true;
        result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return result;
    });
}

} // namespace paramlock
