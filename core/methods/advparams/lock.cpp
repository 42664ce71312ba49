// What both modes share around their loop: the settings checked, the layer set resolved, the working model and its
// layers prepared, the loop run (algorithm1.cpp or strongmode.cpp), the key built from every changed weight and
// proven to restore the original bit for bit before anything is returned.
#include "lockrun.h"

#include "internal.h"
#include "layerset.h"
#include "text.h"
#include "training.h"

#include <QString>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

namespace paramlock {

using namespace advparams;

std::string modeId(LockMode mode)
{
    return mode == LockMode::Paper ? "paper" : "strong";
}

Expected<LockMode> modeFromId(const std::string &id)
{
    if (id == "strong")
        return LockMode::Strong;
    if (id == "paper")
        return LockMode::Paper;
    return Error{"unknown lock mode \"" + id + "\" (available: strong, paper)"};
}

namespace {

Expected<void> validate(const AdvParamsSettings &s)
{
    if (s.mode != LockMode::Paper && s.mode != LockMode::Strong)
        return Error{"unknown lock mode (available: strong, paper)"};
    if (s.mode == LockMode::Strong && !(s.targetAccuracy >= 0.0 && s.targetAccuracy < 1.0))
        return Error{"the target accuracy must be in [0, 1)"};
    if (s.maxWeights < 0 || s.candidates < 1)
        return Error{"the weight budget must be >= 0 and the candidate pool >= 1"};
    if (!(s.theta > 0.0) || !std::isfinite(s.theta))
        return Error{"theta must be a positive number"};
    if (!(s.alpha >= 0.0 && s.alpha < 0.5))
        return Error{"alpha must be in [0, 0.5): it is the fraction of the range kept clear at each end"};
    if (!(s.lossThreshold > 0.0))
        return Error{"the loss threshold T_loss must be positive"};
    if (s.maxIterations < 1)
        return Error{"the iteration budget I must be at least 1"};
    if (s.chunkSize < 0)
        return Error{"the chunk size must be at least 1 (0: the default)"};
    return {};
}

/** The chunk size a lock uses: the recorded one, or the default for keys made before it was recorded. */
int chunkSizeOf(const AdvParamsSettings &s)
{
    return s.chunkSize > 0 ? s.chunkSize : AdvParamsSettings{}.chunkSize;
}

} // namespace

Expected<std::vector<std::string>> resolveLayerSet(
    const Model &model, const AdvParamsSettings &settings, std::vector<std::string> *notes)
{
    LayerSelection selection;
    if (!settings.layers.empty()) {
        selection.kind = LayerSelection::Kind::Named;
        selection.names = settings.layers;
    } else if (settings.allLayers) {
        selection.kind = LayerSelection::Kind::All;
    } else if (settings.randomLayers > 0) {
        selection.kind = LayerSelection::Kind::Random;
        selection.random = settings.randomLayers;
    }
    return resolveLayerSelection(model, selection, settings.seed, notes);
}

Expected<std::vector<int64_t>> advparams::encryptionSetIndices(const Dataset &train, const AdvParamsSettings &settings)
{
    SamplingOptions sampling;
    sampling.count = settings.samples;
    sampling.seed = settings.seed;
    sampling.classBalanced = settings.classBalanced;
    return sampleIndices(train, sampling);
}

Expected<Dataset> drawEncryptionSet(const Dataset &train, const AdvParamsSettings &settings)
{
    auto indices = encryptionSetIndices(train, settings);
    if (!indices)
        return Error{indices.error()};
    return train.subset(*indices);
}

namespace {
// The default budget is a cap, not a target: the lock stops once the encryption set is at 0.8 x random guess. It
// scales with the model (0.01% of the parameters) between a floor that every model in the repository needs less
// than (LeNet-5 needs 12-14 weights, the DenseNet 24-32) and a ceiling that bounds the time of the largest.
constexpr int64_t kBudgetFloor = 64;
constexpr int64_t kBudgetCeiling = 4096;
constexpr int64_t kParametersPerBudgetWeight = 10000;
} // namespace

std::string advparams::budgetRule()
{
    return "0.01% of the parameters, at least " + std::to_string(kBudgetFloor) + " and at most "
        + std::to_string(kBudgetCeiling);
}

int64_t strongModeBudget(const AdvParamsSettings &settings, int64_t parameterCount)
{
    if (settings.maxWeights > 0)
        return settings.maxWeights;
    return std::clamp<int64_t>(parameterCount / kParametersPerBudgetWeight, kBudgetFloor, kBudgetCeiling);
}

double strongModeTarget(const AdvParamsSettings &settings, int classes)
{
    constexpr double kMarginBelowRandomGuess = 0.8;
    return settings.targetAccuracy > 0.0 ? settings.targetAccuracy
                                         : kMarginBelowRandomGuess / double(std::max(2, classes));
}

namespace {

/** Puts every touched weight back unless the lock completed: a failed or cancelled lock changes nothing. */
struct PutBackUnlessDone
{
    std::vector<LayerState> &layers;
    bool done = false;
    ~PutBackUnlessDone()
    {
        if (done)
            return;
        for (LayerState &layer : layers)
            for (const auto &[index, original] : layer.originals)
                layer.data[index] = original;
    }
};

LayerState prepareLayer(ModelImpl &impl, const std::string &name, const AdvParamsSettings &s)
{
    LayerState layer;
    layer.weight = impl.weight(name);
    layer.data = floatData(layer.weight);
    LayerLockReport &rep = layer.report;
    rep.layer = name;
    rep.count = layer.weight.numel();
    rep.min = layer.weight.min().item<float>();
    rep.max = layer.weight.max().item<float>();
    const double range = double(rep.max) - double(rep.min);
    rep.lowerBound = double(rep.min) + s.alpha * range;
    rep.upperBound = double(rep.max) - s.alpha * range;
    summarise(layer.weight, rep.meanBefore, rep.stdBefore);
    return layer;
}

Expected<AdvParamsLock> lockWeights(
    const Model &model, bool inPlace, const Dataset &encryptionSet, const AdvParamsOptions &options, Progress &progress)
{
    if (auto ok = validate(options.settings); !ok)
        return Error{ok.error()};
    if (encryptionSet.size() == 0)
        return Error{"the encryption set is empty"};
    if (auto ok = checkCompatible(model, encryptionSet); !ok)
        return Error{ok.error()};
    AdvParamsLock result;
    auto layerSet = resolveLayerSet(model, options.settings, &result.notes);
    if (!layerSet)
        return Error{layerSet.error()};

    return guarded("locking failed", [&]() -> Expected<AdvParamsLock> {
        const AdvParamsSettings &s = options.settings;
        result.locked = inPlace ? model : model.clone();
        ModelImpl &impl = result.locked.impl();
        impl.setTraining(false);
        for (const auto &w : impl.weights())
            if (!torch::isfinite(w.tensor).all().item<bool>())
                return Error{"the model's weight " + w.name + " contains NaN or infinite values"};
        const std::string originalFingerprint = model.fingerprint();
        GradientScope restoreFlags(impl);

        LockRun run{s, impl, makeChunks(result.locked, encryptionSet, chunkSizeOf(s)), encryptionSet.size(), {}, result,
            progress, options.reuseActivations, 0, {}};
        for (const std::string &name : *layerSet)
            run.layers.push_back(prepareLayer(impl, name, s));
        if (impl.isTorchScript() && options.reuseActivations)
            result.notes.push_back(impl.stagePlan());

        PutBackUnlessDone restoreOnFailure{run.layers};
        const auto start = std::chrono::steady_clock::now();
        const int classes =
            std::max(2, model.metadata().classCount > 0 ? model.metadata().classCount : encryptionSet.classCount);
        Expected<void> outcome = s.mode == LockMode::Strong
            ? runStrongMode(run, strongModeBudget(s, result.locked.parameterCount()), strongModeTarget(s, classes))
            : runPaperMode(run);
        if (!outcome)
            return Error{outcome.error()};
        if (s.mode == LockMode::Paper) {
            if (!result.reachedTarget) {
                torch::NoGradGuard noGrad;
                int64_t correct = 0;
                result.finalLoss = lossGradientAccuracy(run, &correct, false);
                result.finalAccuracy = double(correct) / double(run.total);
                result.stopReason = "T_loss = " + QString::number(s.lossThreshold).toStdString()
                    + " not reached after I = " + std::to_string(s.maxIterations) + " steps on each of "
                    + std::to_string(run.layers.size()) + " layers (encryption-set loss "
                    + QString::number(result.finalLoss, 'f', 2).toStdString() + ", accuracy "
                    + percentText(result.finalAccuracy, 1) + ")";
            } else {
                result.stopReason = "T_loss = " + QString::number(s.lossThreshold).toStdString()
                    + " reached (encryption-set loss " + QString::number(result.finalLoss, 'f', 2).toStdString() + ")";
            }
        }

        buildEntries(run);
        result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (result.secret.entries.empty())
            return Error{"no weight was changed: the encryption set's loss was already above T_loss "
                         "or the gradients vanished"};
        wrapKey(run, *layerSet, originalFingerprint);

        // Algorithm 2 applied in place and undone again: proves the key exact without another copy of the model.
        const auto data = weightData(impl);
        const std::vector<float> lockedValues = subtractKey(data, result.secret.entries);
        const bool exact = result.locked.fingerprint() == originalFingerprint;
        putBack(data, result.secret.entries, lockedValues);
        if (!exact)
            return Error{"internal error: the new key does not restore the original model; nothing was written"};
        restoreOnFailure.done = true;
        return std::move(result);
    });
}

} // namespace

Expected<AdvParamsLock> lockModel(
    const Model &model, const Dataset &encryptionSet, const AdvParamsOptions &options, Progress &progress)
{
    return lockWeights(model, false, encryptionSet, options, progress);
}

Expected<AdvParamsLock> lockModelInPlace(
    Model &model, const Dataset &encryptionSet, const AdvParamsOptions &options, Progress &progress)
{
    return lockWeights(model, true, encryptionSet, options, progress);
}

Expected<double> gradientPassSeconds(const Model &model, const Dataset &encryptionSet,
    const std::vector<std::string> &layers, int batchSize, int repeats, bool fromLayerStage)
{
    if (auto ok = checkCompatible(model, encryptionSet); !ok)
        return Error{ok.error()};
    return guarded("measuring the gradient floor failed", [&]() -> Expected<double> {
        Model copy = model.clone();
        ModelImpl &impl = copy.impl();
        impl.setTraining(false);
        for (auto &p : impl.parameters())
            p.second.set_requires_grad(false);
        std::vector<torch::Tensor> targets;
        for (const std::string &name : layers) {
            targets.push_back(impl.weight(name));
            targets.back().set_requires_grad(true);
        }
        std::vector<Chunk> chunks = makeChunks(copy, encryptionSet, batchSize);
        int stage = 0;
        if (fromLayerStage && !layers.empty()) {
            stage = impl.stageCount();
            for (const std::string &name : layers)
                stage = std::min(stage, impl.stageOf(name));
            torch::NoGradGuard noGrad;
            for (Chunk &c : chunks)
                c.inputs = impl.forwardStages(c.inputs, 0, stage);
        }
        const auto logits = [&](const Chunk &c) {
            return stage == 0 ? impl.forward(c.inputs) : impl.forwardStages(c.inputs, stage, impl.stageCount());
        };
        const double total = double(encryptionSet.size());
        auto pass = [&] {
            if (targets.empty()) { // the forward alone: one lookahead measurement of the strong mode
                torch::NoGradGuard noGrad;
                for (const Chunk &c : chunks)
                    impl.forward(c.inputs);
                return;
            }
            for (auto &w : targets)
                w.mutable_grad() = torch::Tensor();
            for (const Chunk &c : chunks)
                (torch::nn::functional::cross_entropy(
                     logits(c), c.labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                    / total)
                    .backward();
        };
        pass(); // warm-up: allocator, oneDNN primitives
        std::vector<double> seconds;
        for (int r = 0; r < std::max(1, repeats); ++r) {
            const auto start = std::chrono::steady_clock::now();
            pass();
            seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        }
        // The median, not the best: a lock is a sum of passes, each with its share of the machine's noise.
        std::nth_element(seconds.begin(), seconds.begin() + long(seconds.size() / 2), seconds.end());
        return seconds[seconds.size() / 2];
    });
}

} // namespace paramlock
