#include "advparams.h"

#include "atomicfile.h"

#include "modelimpl.h"
#include "training.h"
#include "version.h"
#include "weightsearch.h"

#include <QDateTime>
#include <QFile>
#include <QFileInfo>

#include <algorithm>
#include <chrono>
#include <optional>
#include <cmath>
#include <cstring>
#include <cstdlib>
#include <limits>
#include <map>
#include <numeric>
#include <random>

namespace paramlock {

namespace {

uint32_t floatBits(float f)
{
    uint32_t bits = 0;
    std::memcpy(&bits, &f, sizeof(bits));
    return bits;
}

float *flatData(const torch::Tensor &t)
{
    if (!t.is_contiguous() || t.scalar_type() != torch::kFloat32)
        throw Failure("weights must be contiguous float32 tensors");
    return t.data_ptr<float>();
}

/** Every conv/FC weight of a model, by name, as raw floats. */
std::map<std::string, float *> weightData(const ModelImpl &impl)
{
    std::map<std::string, float *> data;
    for (const auto &w : impl.weights())
        data[w.name] = flatData(w.tensor);
    return data;
}

/** Algorithm 2 on raw weights: subtracts every perturbation and returns the values it replaced. */
std::vector<float> subtractKey(const std::map<std::string, float *> &data, const SecretKey &key)
{
    std::vector<float> replaced;
    replaced.reserve(key.entries.size());
    torch::NoGradGuard noGrad;
    for (const KeyEntry &e : key.entries) {
        float &value = data.at(e.layer)[e.index];
        replaced.push_back(value);
        value = float(double(value) - e.perturbation);
    }
    return replaced;
}

/** Undoes subtractKey() exactly: puts the replaced values back, last entry first. */
void putBack(const std::map<std::string, float *> &data, const SecretKey &key, const std::vector<float> &replaced)
{
    torch::NoGradGuard noGrad;
    for (size_t i = key.entries.size(); i-- > 0;)
        data.at(key.entries[i].layer)[key.entries[i].index] = replaced[i];
}

struct Chunk
{
    torch::Tensor inputs;
    torch::Tensor labels;
};

std::vector<Chunk> makeChunks(const Model &model, const Dataset &data, int batchSize)
{
    std::vector<Chunk> chunks;
    const int64_t batch = std::max(1, batchSize);
    for (int64_t begin = 0; begin < data.size(); begin += batch) {
        const int64_t end = std::min(data.size(), begin + batch);
        chunks.push_back(
            {inputTensor(data, begin, end, model.metadata().normalization), labelTensor(data, begin, end)});
    }
    return chunks;
}

Expected<void> validate(const LockSettings &s)
{
    if (s.mode != "paper" && s.mode != "strong")
        return Error{"unknown lock mode \"" + s.mode + "\" (available: strong, paper)"};
    if (s.mode == "strong" && !(s.targetAccuracy >= 0.0 && s.targetAccuracy < 1.0))
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
    return {};
}

/** Mean and sample standard deviation in double, without a double copy of the layer. */
void summarise(const torch::Tensor &w, double &mean, double &std)
{
    const float *v = flatData(w);
    const int64_t n = w.numel();
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i)
        sum += double(v[i]);
    mean = n > 0 ? sum / double(n) : 0.0;
    double squares = 0.0;
    for (int64_t i = 0; i < n; ++i)
        squares += (double(v[i]) - mean) * (double(v[i]) - mean);
    std = n > 1 ? std::sqrt(squares / double(n - 1)) : 0.0;
}

} // namespace

Expected<std::vector<std::string>> resolveLayerSet(
    const Model &model, const LockSettings &settings, std::vector<std::string> *notes)
{
    const std::vector<std::string> all = model.layerNames();
    if (all.empty())
        return Error{"the model has no convolution or fully-connected layer to encrypt"};
    std::vector<size_t> picked;
    if (!settings.layers.empty()) {
        for (const std::string &name : settings.layers) {
            const auto it = std::find(all.begin(), all.end(), name);
            if (it == all.end()) {
                // Accept the module name too ("conv1" for "conv1.weight").
                const auto alt = std::find(all.begin(), all.end(), name + ".weight");
                if (alt == all.end())
                    return Error{"the model has no conv/FC layer named \"" + name
                        + "\" (run `paramlock-cli info` to list them)"};
                picked.push_back(size_t(alt - all.begin()));
            } else {
                picked.push_back(size_t(it - all.begin()));
            }
        }
        std::sort(picked.begin(), picked.end());
        if (std::adjacent_find(picked.begin(), picked.end()) != picked.end())
            return Error{"a layer is listed twice in the layer set"};
    } else if (settings.allLayers) {
        picked.resize(all.size());
        std::iota(picked.begin(), picked.end(), 0);
    } else if (settings.randomLayers > 0) {
        const size_t k = std::min(size_t(settings.randomLayers), all.size());
        if (k < size_t(settings.randomLayers) && notes)
            notes->push_back("asked for " + std::to_string(settings.randomLayers) + " random layers; the model has "
                + std::to_string(all.size()) + ", so all are used");
        std::vector<size_t> order(all.size());
        std::iota(order.begin(), order.end(), 0);
        std::mt19937_64 rng(settings.seed);
        std::shuffle(order.begin(), order.end(), rng);
        picked.assign(order.begin(), order.begin() + long(k));
        std::sort(picked.begin(), picked.end());
    } else {
        return Error{"the layer selection is empty: name layers, ask for k random layers, or take all"};
    }
    std::vector<std::string> out;
    for (size_t i : picked)
        out.push_back(all[i]);
    return out;
}

namespace {

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
    const float *gradient() const
    {
        const auto &g = weight.grad();
        if (!g.defined())
            return nullptr;
        if (!g.is_contiguous() || g.scalar_type() != torch::kFloat32)
            throw Failure("internal error: the gradient of " + report.layer + " is not a contiguous float tensor");
        return g.data_ptr<float>();
    }
};

/** Everything both modes share: the working copy, the encryption set and the layers. */
struct LockRun
{
    const LockSettings &settings;
    ModelImpl &impl;
    std::vector<Chunk> chunks;
    int64_t total = 0;
    std::vector<LayerState> layers;
    LockResult &result;
    Progress &progress;
    /** Strong mode: the gradient of the clipped margin loss instead of cross-entropy. */
    bool marginObjective = false;
    /** Reuse the activations below the changed layers (zoo models; TorchScript has one stage). */
    bool reuseActivations = true;
    int startStage = 0; ///< the stage the cached inputs enter
    std::vector<torch::Tensor> cached; ///< per chunk: the input of `startStage`
};

/**
 * While only weights at or above `stage` change, the activations entering it
 * are the same every iteration: compute them once per chunk.
 */
void startAt(LockRun &run, int stage)
{
    if (!run.reuseActivations || stage == run.startStage)
        return;
    run.cached.clear();
    run.startStage = stage;
    if (stage == 0)
        return;
    torch::NoGradGuard noGrad;
    for (const Chunk &c : run.chunks)
        run.cached.push_back(run.impl.forwardStages(c.inputs, 0, stage));
}

torch::Tensor chunkLogits(LockRun &run, size_t chunk)
{
    if (run.startStage == 0)
        return run.impl.forward(run.chunks[chunk].inputs);
    return run.impl.forwardStages(run.cached[chunk], run.startStage, run.impl.stageCount());
}

/**
 * How far each sample is from being misclassified, capped: z_best_other - z_true,
 * at most kMarginCap. Samples that are already wrong by the cap add no gradient,
 * so the search spends its steps on the samples the model still gets right
 * rather than making wrong answers more confident, as cross-entropy would.
 */
constexpr double kMarginCap = 2.0;

torch::Tensor cappedMargin(const torch::Tensor &logits, const torch::Tensor &labels)
{
    const auto trueLogit = logits.gather(1, labels.unsqueeze(1)).squeeze(1);
    const auto others = logits.scatter(1, labels.unsqueeze(1), -std::numeric_limits<float>::infinity());
    return (std::get<0>(others.max(1)) - trueLogit).clamp_max(kMarginCap);
}

// Mean cross-entropy over the encryption set, its gradient for every weight that requires
// grad, and how many samples the model still gets right, all from one forward pass. With the
// margin objective, `margin` receives its mean.
double lossGradientAccuracy(LockRun &run, int64_t *correct, bool withGradient = true, double *margin = nullptr)
{
    // Dropped rather than zeroed: the first chunk's backward then hands its gradient over without an addition.
    for (LayerState &l : run.layers)
        l.weight.mutable_grad() = torch::Tensor();
    double loss = 0.0, marginSum = 0.0;
    int64_t right = 0;
    for (size_t i = 0; i < run.chunks.size(); ++i) {
        const Chunk &c = run.chunks[i];
        const auto logits = chunkLogits(run, i);
        auto l = torch::nn::functional::cross_entropy(
                     logits, c.labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
            / double(run.total);
        if (withGradient && run.marginObjective) {
            const auto m = cappedMargin(logits, c.labels).sum() / double(run.total);
            m.backward();
            marginSum += m.item<double>();
        } else if (withGradient) {
            l.backward();
        }
        loss += l.item<double>();
        right += logits.argmax(1).eq(c.labels).sum().item<int64_t>();
    }
    if (correct)
        *correct = right;
    if (margin)
        *margin = marginSum;
    return loss;
}

/** The mean capped margin of the encryption set as the weights stand now: forward passes only. */
double marginNow(LockRun &run)
{
    torch::NoGradGuard noGrad;
    double sum = 0.0;
    for (size_t i = 0; i < run.chunks.size(); ++i)
        sum += (cappedMargin(chunkLogits(run, i), run.chunks[i].labels).sum() / double(run.total)).item<double>();
    return sum;
}

bool report(LockRun &run, const LockStep &step, double fraction)
{
    run.result.steps.push_back(step);
    return run.progress.lockStep(step) && run.progress.advance(std::min(1.0, fraction), "encrypting " + step.layer);
}

void setWeight(LayerState &layer, int64_t index, float value)
{
    layer.originals.emplace(index, layer.data[index]);
    torch::NoGradGuard noGrad;
    layer.data[index] = value;
}

/** AdvParams Algorithm 1 exactly as the paper writes it. */
Expected<void> runPaperMode(LockRun &run)
{
    const LockSettings &s = run.settings;
    LockResult &result = run.result;
    const int totalIterations = int(run.layers.size()) * s.maxIterations;
    for (size_t li = 0; li < run.layers.size(); ++li) {
        LayerState &layer = run.layers[li];
        LayerLockReport &rep = layer.report;
        const double range = double(rep.max) - double(rep.min);
        layer.weight.set_requires_grad(true);
        startAt(run, run.impl.stageOf(rep.layer));
        for (int it = 0; it < s.maxIterations; ++it) {
            if (run.progress.cancelled())
                return Error{"locking cancelled"};
            LockStep step;
            step.iteration = result.iterations;
            step.layerIndex = int(li);
            step.layer = rep.layer;
            step.loss = lossGradientAccuracy(run, nullptr);
            if (result.iterations == 0)
                result.initialLoss = step.loss;
            if (step.loss > s.lossThreshold) {
                result.reachedThreshold = true;
                result.finalLoss = step.loss;
                run.progress.lockStep(step);
                return {};
            }
            const float *gradient = layer.gradient();
            const Steepest steepest = gradient ? steepestEligible(gradient, layer.eligibility()) : Steepest{};
            const int64_t t = steepest.index;
            const float gt = steepest.gradient;
            if (t < 0 || gt == 0.0f) {
                result.notes.push_back(rep.layer + ": no weight with a non-zero gradient is left");
                break;
            }
            const double eta = s.theta * (gt > 0.0f ? 1.0 : -1.0) * range;
            const float old = layer.data[t];
            const double candidate = double(old) + eta;
            step.masked = candidate < rep.lowerBound || candidate > rep.upperBound;
            if (step.masked)
                excludePosition(layer.excluded, t);
            const float updated = float(std::clamp(candidate, rep.lowerBound, rep.upperBound));
            setWeight(layer, t, updated);
            step.flatIndex = t;
            step.value = updated;
            step.step = double(updated) - double(old);
            ++result.iterations;
            ++rep.steps;
            if (!report(run, step, double(result.iterations) / double(totalIterations)))
                return Error{"locking cancelled"};
        }
        layer.weight.set_requires_grad(false);
    }
    result.finalLoss = -1.0; // measured by the caller
    return {};
}

/** The `pool` best distinct swaps of this iteration over all layers (see swapSearch). */
std::vector<Swap> bestSwaps(const LockRun &run, int64_t pool)
{
    std::vector<SwapLayer> layers;
    for (const LayerState &l : run.layers)
        layers.push_back({l.gradient(), l.eligibility()});
    return swapSearch(layers, pool);
}

/**
 * The first-order gain misjudges swaps of values far apart (ReLUs switch, effects in one unit add up): measures
 * each candidate's real gain of the margin objective with a forward pass of the encryption set, and keeps those
 * that raise it nearly as much as the best one. On LeNet-5 and the DenseNet this reaches the target with 25-40%
 * fewer weights, for one forward pass per candidate.
 */
std::vector<Swap> measureGains(LockRun &run, const std::vector<Swap> &candidates, double marginBefore)
{
    run.result.lookaheadPasses += int64_t(candidates.size());
    std::vector<Swap> raising;
    for (Swap c : candidates) {
        float *data = run.layers[c.layer].data;
        std::swap(data[c.first], data[c.second]);
        struct SwapBack
        {
            float *a, *b;
            ~SwapBack() { std::swap(*a, *b); }
        } swapBack{data + c.first, data + c.second};
        c.gain = marginNow(run) - marginBefore;
        if (c.gain > 0.0)
            raising.push_back(c);
    }
    // The draw keeps the seed's say among near-equals only: drawing among every raising swap in proportion to its
    // gain needed 16-20 weights on LeNet-5 where keeping those within 80% of the best needs 12-14 (and the best
    // alone 12-16).
    constexpr double kNearBest = 0.8;
    double best = 0.0;
    for (const Swap &c : raising)
        best = std::max(best, c.gain);
    std::vector<Swap> nearBest;
    for (const Swap &c : raising)
        if (c.gain >= kNearBest * best)
            nearBest.push_back(c);
    return nearBest;
}

/**
 * ParamLock's strong mode. Each step swaps the values of two weights of one
 * layer: the layer's multiset of values, and so its histogram, mean, std, min
 * and max, stays exactly as it was. Every iteration ranks, over all selected
 * layers, the swaps with the largest first-order gain of a capped margin
 * objective ((g_i - g_j)(w_j - w_i)), measures the real gain of the best few
 * (lookahead), and the secret seed draws one of the nearly best in proportion
 * to its gain, so that re-running the selection does not retrace it. Both
 * weights must lie in the layer's [T1, T2] and are never picked again. It stops when the model's accuracy on the
 * encryption set falls to the target, or at the weight budget.
 */
Expected<void> runStrongMode(LockRun &run, int64_t budget, double targetAccuracy)
{
    const LockSettings &s = run.settings;
    LockResult &result = run.result;
    std::mt19937_64 rng(s.seed ^ 0x9e3779b97f4a7c15ULL);
    run.marginObjective = true;
    const int64_t pool = std::max<int64_t>(1, s.candidates);
    int lowestStage = run.impl.stageCount();
    for (const LayerState &l : run.layers)
        lowestStage = std::min(lowestStage, run.impl.stageOf(l.report.layer));
    startAt(run, lowestStage);
    for (LayerState &l : run.layers) {
        l.weight.set_requires_grad(true);
        l.bounded = true; // only weights inside [T1, T2] may move, and only to another such value
    }

    int firstOrderFallbacks = 0;
    for (int64_t changed = 0;;) {
        if (run.progress.cancelled())
            return Error{"locking cancelled"};
        int64_t correct = 0;
        double margin = 0.0;
        LockStep step;
        step.iteration = result.iterations;
        step.loss = lossGradientAccuracy(run, &correct, true, &margin);
        const double accuracy = double(correct) / double(run.total);
        if (result.iterations == 0)
            result.initialLoss = step.loss;
        result.finalLoss = step.loss;
        result.finalAccuracy = accuracy;
        if (accuracy <= targetAccuracy) {
            result.reachedThreshold = true;
            break;
        }
        if (changed + 2 > budget) {
            result.notes.push_back("stopped at the budget of " + std::to_string(budget)
                + " weights with encryption-set accuracy " + QString::number(accuracy * 100.0, 'f', 1).toStdString()
                + "%");
            break;
        }

        std::vector<Swap> distinct = bestSwaps(run, pool);
        if (s.lookahead && !distinct.empty()) {
            // Where none of them really raises the capped margin (late in the lock, when swaps of far-apart values
            // bring back samples the cap had let go), fall back to the first-order draw: it may still lower the
            // accuracy, which is what the lock stops on.
            std::vector<Swap> measured = measureGains(run, distinct, margin);
            if (measured.empty())
                ++firstOrderFallbacks;
            else
                distinct = std::move(measured);
        }
        if (distinct.empty()) {
            result.notes.push_back("no swap raises the objective any further");
            break;
        }
        double totalGain = 0.0;
        for (const Swap &c : distinct)
            totalGain += c.gain;
        double u = double(rng() >> 11) * 0x1.0p-53 * totalGain;
        size_t choice = 0;
        while (choice + 1 < distinct.size() && u >= distinct[choice].gain) {
            u -= distinct[choice].gain;
            ++choice;
        }
        const Swap &c = distinct[choice];
        LayerState &l = run.layers[c.layer];
        const float a = l.data[c.first];
        const float b = l.data[c.second];
        setWeight(l, c.first, b);
        setWeight(l, c.second, a);
        excludePosition(l.excluded, c.first);
        excludePosition(l.excluded, c.second);
        l.report.steps += 1;
        changed += 2;
        step.layerIndex = int(c.layer);
        step.layer = l.report.layer;
        step.flatIndex = c.first;
        step.value = b;
        step.partnerIndex = c.second;
        step.partnerValue = a;
        step.step = double(b) - double(a);
        step.masked = true;
        ++result.iterations;
        if (!report(run, step, double(changed) / double(budget)))
            return Error{"locking cancelled"};
    }
    if (firstOrderFallbacks > 0)
        result.notes.push_back(std::to_string(firstOrderFallbacks) + " of " + std::to_string(result.iterations)
            + " steps drew by the first-order gain: none of the measured swaps raised the objective");
    for (LayerState &l : run.layers)
        l.weight.set_requires_grad(false);
    return {};
}

} // namespace

Expected<Dataset> drawEncryptionSet(const Dataset &train, const LockSettings &settings)
{
    SamplingOptions sampling;
    sampling.count = settings.samples;
    sampling.seed = settings.seed;
    sampling.classBalanced = settings.classBalanced;
    auto indices = sampleIndices(train, sampling);
    if (!indices)
        return Error{indices.error()};
    return train.subset(*indices);
}

int64_t strongModeBudget(const LockSettings &settings, int64_t parameterCount)
{
    if (settings.maxWeights > 0)
        return settings.maxWeights;
    return std::max<int64_t>(1, std::min<int64_t>(64, parameterCount / 10000));
}

double strongModeTarget(const LockSettings &settings, int classes)
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

Expected<LockResult> lockWeights(
    const Model &model, bool inPlace, const Dataset &encryptionSet, const LockOptions &options, Progress &progress)
{
    if (auto ok = validate(options.settings); !ok)
        return Error{ok.error()};
    if (encryptionSet.size() == 0)
        return Error{"the encryption set is empty"};
    if (auto ok = checkCompatible(model, encryptionSet); !ok)
        return Error{ok.error()};
    LockResult result;
    auto layerSet = resolveLayerSet(model, options.settings, &result.notes);
    if (!layerSet)
        return Error{layerSet.error()};

    return guarded("locking failed", [&]() -> Expected<LockResult> {
        const LockSettings &s = options.settings;
        result.locked = inPlace ? model : model.clone();
        ModelImpl &impl = result.locked.impl();
        impl.setTraining(false);
        for (const auto &w : impl.weights())
            if (!torch::isfinite(w.tensor).all().item<bool>())
                return Error{"the model's weight " + w.name + " contains NaN or infinite values"};
        const std::string originalFingerprint = model.fingerprint();

        std::vector<std::pair<torch::Tensor, bool>> gradFlags;
        for (auto &p : impl.parameters()) {
            gradFlags.emplace_back(p.second, p.second.requires_grad());
            p.second.set_requires_grad(false);
        }
        struct RestoreFlags
        {
            std::vector<std::pair<torch::Tensor, bool>> &flags;
            ~RestoreFlags()
            {
                for (auto &f : flags) {
                    f.first.set_requires_grad(f.second);
                    f.first.mutable_grad() = torch::Tensor();
                }
            }
        } restoreFlags{gradFlags};

        LockRun run{s, impl, makeChunks(result.locked, encryptionSet, options.batchSize), encryptionSet.size(), {},
            result, progress, false, options.reuseActivations, 0, {}};
        for (const std::string &name : *layerSet) {
            LayerState layer;
            layer.weight = impl.weight(name);
            layer.data = flatData(layer.weight);
            LayerLockReport &rep = layer.report;
            rep.layer = name;
            rep.count = layer.weight.numel();
            rep.min = layer.weight.min().item<float>();
            rep.max = layer.weight.max().item<float>();
            const double range = double(rep.max) - double(rep.min);
            rep.lowerBound = double(rep.min) + s.alpha * range;
            rep.upperBound = double(rep.max) - s.alpha * range;
            summarise(layer.weight, rep.meanBefore, rep.stdBefore);
            run.layers.push_back(std::move(layer));
        }

        PutBackUnlessDone restoreOnFailure{run.layers};
        const auto start = std::chrono::steady_clock::now();
        const int classes =
            std::max(2, model.metadata().classCount > 0 ? model.metadata().classCount : encryptionSet.classCount);
        Expected<void> outcome = s.mode == "strong"
            ? runStrongMode(run, strongModeBudget(s, result.locked.parameterCount()), strongModeTarget(s, classes))
            : runPaperMode(run);
        if (!outcome)
            return Error{outcome.error()};
        if (s.mode == "paper" && !result.reachedThreshold) {
            torch::NoGradGuard noGrad;
            int64_t correct = 0;
            result.finalLoss = lossGradientAccuracy(run, &correct, false);
            result.finalAccuracy = double(correct) / double(run.total);
        }

        // The key: one entry per distinct weight, with a perturbation that is exact in double.
        for (LayerState &layer : run.layers) {
            LayerLockReport &rep = layer.report;
            for (const auto &[index, original] : layer.originals) {
                float locked = layer.data[index];
                double v = double(locked) - double(original);
                while (floatBits(float(double(locked) - v)) != floatBits(original)) {
                    locked = std::nextafter(locked, original);
                    v = double(locked) - double(original);
                }
                layer.data[index] = locked;
                if (v == 0.0)
                    continue;
                result.key.entries.push_back({rep.layer, index, v});
                rep.positions.push_back(index);
                rep.before.push_back(original);
                rep.after.push_back(locked);
            }
            summarise(layer.weight, rep.meanAfter, rep.stdAfter);
            result.layers.push_back(rep);
        }
        result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

        SecretKey &key = result.key;
        key.settings = s;
        key.settings.layers = *layerSet;
        key.settings.chunkSize = options.batchSize;
        key.originalFingerprint = originalFingerprint;
        key.lockedFingerprint = result.locked.fingerprint();
        key.parameterCount = result.locked.parameterCount();
        key.createdAt = QDateTime::currentDateTimeUtc().toString(Qt::ISODate).toStdString();
        key.createdBy = std::string("ParamLock ") + PARAMLOCK_VERSION;
        if (key.entries.empty())
            return Error{"no weight was changed: the encryption set's loss was already above T_loss "
                         "or the gradients vanished"};

        // Algorithm 2 applied in place and undone again: proves the key exact without another copy of the model.
        const auto data = weightData(impl);
        const std::vector<float> lockedValues = subtractKey(data, key);
        const bool exact = result.locked.fingerprint() == originalFingerprint;
        putBack(data, key, lockedValues);
        if (!exact)
            return Error{"internal error: the new key does not restore the original model; nothing was written"};
        restoreOnFailure.done = true;
        return std::move(result);
    });
}

} // namespace

Expected<LockResult> lockModel(
    const Model &model, const Dataset &encryptionSet, const LockOptions &options, Progress &progress)
{
    return lockWeights(model, false, encryptionSet, options, progress);
}

Expected<LockResult> lockModelInPlace(
    Model &model, const Dataset &encryptionSet, const LockOptions &options, Progress &progress)
{
    return lockWeights(model, true, encryptionSet, options, progress);
}

Expected<void> saveLock(const LockResult &result, const std::string &modelPath, const std::string &keyPath,
    const std::vector<std::string> &protectedPaths, const std::string &keyText)
{
    if (samePath(modelPath, keyPath))
        return Error{"the locked model and the key cannot be written to the same file"};
    std::vector<std::string> keep = protectedPaths;
    keep.push_back(modelPath);
    // An existing key at the output path is kept aside, so that a failed model write puts it back.
    std::optional<std::string> previousKey;
    if (QFileInfo::exists(QString::fromStdString(keyPath)))
        if (auto old = readWholeFile(keyPath))
            previousKey = std::move(*old);
    if (auto saved = writeFileAtomically(keyPath, keyText.empty() ? result.key.toJson() : keyText, keep); !saved)
        return saved;
    if (auto saved = result.locked.save(modelPath, protectedPaths); !saved) {
        if (previousKey)
            (void)writeFileAtomically(keyPath, *previousKey);
        else
            QFile::remove(QString::fromStdString(keyPath));
        return saved;
    }
    return {};
}

KeyFit checkKey(const Model &model, const SecretKey &key)
{
    KeyFit fit;
    fit.modelFingerprint = model.fingerprint();
    if (fit.modelFingerprint == key.originalFingerprint && fit.modelFingerprint != key.lockedFingerprint) {
        fit.state = KeyFit::State::AlreadyUnlocked;
        fit.message = "this model is not locked: it already is the original that the key restores";
        return fit;
    }
    if (fit.modelFingerprint != key.lockedFingerprint) {
        fit.state = KeyFit::State::OtherModel;
        fit.message = "the key was made for a different model (fingerprint " + key.lockedFingerprint.substr(0, 12)
            + "… vs this model's " + fit.modelFingerprint.substr(0, 12) + "…)";
        return fit;
    }
    std::map<std::string, int64_t> sizes;
    for (const auto &w : model.impl().weights())
        sizes[w.name] = w.tensor.numel();
    for (const KeyEntry &e : key.entries) {
        const auto it = sizes.find(e.layer);
        if (it == sizes.end()) {
            fit.state = KeyFit::State::BadEntries;
            fit.message = "the key names the layer " + e.layer + ", which this model does not have";
            return fit;
        }
        if (e.index < 0 || e.index >= it->second) {
            fit.state = KeyFit::State::BadEntries;
            fit.message = "the key's index " + std::to_string(e.index) + " is outside " + e.layer + " ("
                + std::to_string(it->second) + " weights)";
            return fit;
        }
        if (!std::isfinite(e.perturbation)) {
            fit.state = KeyFit::State::BadEntries;
            fit.message = "the key holds a non-finite perturbation for " + e.layer;
            return fit;
        }
    }
    fit.state = KeyFit::State::Fits;
    fit.message = "the key fits this model";
    return fit;
}

namespace {

using Lap = std::chrono::steady_clock::time_point;

double lap(Lap &clock)
{
    const auto now = std::chrono::steady_clock::now();
    const double seconds = std::chrono::duration<double>(now - clock).count();
    clock = now;
    return seconds;
}

/** Algorithm 2 on `model`'s own weights after checkKey() said yes; on a mismatch the locked values are put back. */
Expected<void> applyKey(Model &model, const SecretKey &key, UnlockTiming &t, Lap &clock)
{
    const auto data = weightData(model.impl());
    const std::vector<float> lockedValues = subtractKey(data, key);
    t.applySeconds = lap(clock);
    const bool restoredExactly = model.fingerprint() == key.originalFingerprint;
    t.verifySeconds = lap(clock);
    if (!restoredExactly) {
        putBack(data, key, lockedValues);
        return Error{"the key does not restore the original weights (fingerprint mismatch after unlocking): "
                     "the key or the model was altered"};
    }
    return {};
}

} // namespace

Expected<void> unlockInPlace(Model &model, const SecretKey &key, UnlockTiming *timing)
{
    UnlockTiming local;
    UnlockTiming &t = timing ? *timing : local;
    t = UnlockTiming{};
    Lap clock = std::chrono::steady_clock::now();
    const KeyFit fit = checkKey(model, key);
    t.checkSeconds = lap(clock);
    if (!fit.fits())
        return Error{fit.message};
    return guarded("unlocking failed", [&]() { return applyKey(model, key, t, clock); });
}

Expected<Model> unlockModel(const Model &locked, const SecretKey &key, UnlockTiming *timing)
{
    UnlockTiming local;
    UnlockTiming &t = timing ? *timing : local;
    t = UnlockTiming{};
    Lap clock = std::chrono::steady_clock::now();
    const KeyFit fit = checkKey(locked, key);
    t.checkSeconds = lap(clock);
    if (!fit.fits())
        return Error{fit.message};
    return guarded("unlocking failed", [&]() -> Expected<Model> {
        Model restored = locked.clone();
        t.copySeconds = lap(clock);
        if (auto ok = applyKey(restored, key, t, clock); !ok)
            return Error{ok.error()};
        return restored;
    });
}

Expected<double> gradientPassSeconds(const Model &model, const Dataset &encryptionSet,
    const std::vector<std::string> &layers, int batchSize, int repeats)
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
        const std::vector<Chunk> chunks = makeChunks(copy, encryptionSet, batchSize);
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
                (torch::nn::functional::cross_entropy(impl.forward(c.inputs), c.labels,
                     torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
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
