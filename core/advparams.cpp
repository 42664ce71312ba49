#include "advparams.h"

#include "modelimpl.h"
#include "training.h"
#include "version.h"

#include <QDateTime>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
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

// Mean cross-entropy over the encryption set and its gradient with respect to
// `weight`, the only tensor that requires grad, so backward stops there.
double lossAndGradient(ModelImpl &impl, const std::vector<Chunk> &chunks, int64_t total, torch::Tensor &weight)
{
    if (weight.grad().defined())
        weight.mutable_grad().zero_();
    double loss = 0.0;
    for (const Chunk &c : chunks) {
        const auto logits = impl.forward(c.inputs);
        auto l = torch::nn::functional::cross_entropy(
                     logits, c.labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
            / double(total);
        l.backward();
        loss += l.item<double>();
    }
    return loss;
}

double lossOnly(ModelImpl &impl, const std::vector<Chunk> &chunks, int64_t total)
{
    torch::NoGradGuard noGrad;
    double loss = 0.0;
    for (const Chunk &c : chunks)
        loss += torch::nn::functional::cross_entropy(
            impl.forward(c.inputs), c.labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                    .item<double>();
    return loss / double(total);
}

Expected<void> validate(const LockSettings &s)
{
    if (s.mode != "paper")
        return Error{"unknown lock mode \"" + s.mode + "\" (available: paper)"};
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

void summarise(const torch::Tensor &w, double &mean, double &std)
{
    const auto d = w.detach().to(torch::kDouble);
    mean = d.mean().item<double>();
    std = w.numel() > 1 ? d.std().item<double>() : 0.0;
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
        return Error{"the layer selection is empty: name layers or ask for k random layers"};
    }
    std::vector<std::string> out;
    for (size_t i : picked)
        out.push_back(all[i]);
    return out;
}

Expected<LockResult> lockModel(
    const Model &model, const Dataset &encryptionSet, const LockOptions &options, Progress &progress)
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
        result.locked = model.clone();
        ModelImpl &impl = result.locked.impl();
        impl.setTraining(false);
        for (const auto &w : impl.weights())
            if (!torch::isfinite(w.tensor).all().item<bool>())
                return Error{"the model's weight " + w.name + " contains NaN or infinite values"};
        const std::string originalFingerprint = model.fingerprint();
        const auto chunks = makeChunks(result.locked, encryptionSet, options.batchSize);
        const int64_t total = encryptionSet.size();

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

        const auto start = std::chrono::steady_clock::now();
        const int totalIterations = int(layerSet->size()) * s.maxIterations;
        std::vector<std::map<int64_t, float>> originals(layerSet->size());
        bool stop = false;
        for (size_t li = 0; li < layerSet->size() && !stop; ++li) {
            const std::string &name = (*layerSet)[li];
            torch::Tensor w = impl.weight(name);
            float *data = flatData(w);
            LayerLockReport report;
            report.layer = name;
            report.count = w.numel();
            report.min = w.min().item<float>();
            report.max = w.max().item<float>();
            const double range = double(report.max) - double(report.min);
            report.lowerBound = double(report.min) + s.alpha * range;
            report.upperBound = double(report.max) - s.alpha * range;
            summarise(w, report.meanBefore, report.stdBefore);

            // Negative zeros cannot be restored bit for bit through a subtraction: never pick them.
            auto mask = torch::ones_like(w);
            float *maskData = flatData(mask);
            for (int64_t i = 0; i < w.numel(); ++i)
                if (data[i] == 0.0f && std::signbit(data[i]))
                    maskData[i] = 0.0f;

            w.set_requires_grad(true);
            for (int it = 0; it < s.maxIterations; ++it) {
                if (progress.cancelled())
                    return Error{"locking cancelled"};
                LockStep step;
                step.iteration = result.iterations;
                step.layerIndex = int(li);
                step.layer = name;
                step.loss = lossAndGradient(impl, chunks, total, w);
                if (result.iterations == 0)
                    result.initialLoss = step.loss;
                if (step.loss > s.lossThreshold) {
                    result.reachedThreshold = true;
                    result.finalLoss = step.loss;
                    stop = true;
                    progress.lockStep(step);
                    break;
                }
                const auto g = (w.grad() * mask).flatten();
                const int64_t t = g.abs().argmax().item<int64_t>();
                const float gt = g[t].item<float>();
                if (gt == 0.0f) {
                    result.notes.push_back(name + ": no weight with a non-zero gradient is left");
                    break;
                }
                const double eta = s.theta * (gt > 0.0f ? 1.0 : -1.0) * range;
                const float old = data[t];
                const double candidate = double(old) + eta;
                step.masked = candidate < report.lowerBound || candidate > report.upperBound;
                if (step.masked)
                    maskData[t] = 0.0f;
                const float updated = float(std::clamp(candidate, report.lowerBound, report.upperBound));
                {
                    torch::NoGradGuard noGrad;
                    data[t] = updated;
                }
                originals[li].emplace(t, old);
                step.flatIndex = t;
                step.step = double(updated) - double(old);
                ++result.iterations;
                ++report.steps;
                result.steps.push_back(step);
                if (!progress.lockStep(step)
                    || !progress.advance(double(result.iterations) / double(totalIterations), "encrypting " + name))
                    return Error{"locking cancelled"};
            }
            w.set_requires_grad(false);
            result.layers.push_back(std::move(report));
        }
        if (!result.reachedThreshold)
            result.finalLoss = lossOnly(impl, chunks, total);

        // The key: one entry per distinct weight, with a perturbation that is exact in double.
        for (size_t li = 0; li < result.layers.size(); ++li) {
            LayerLockReport &report = result.layers[li];
            torch::Tensor w = impl.weight(report.layer);
            float *data = flatData(w);
            for (const auto &[index, original] : originals[li]) {
                float locked = data[index];
                double v = double(locked) - double(original);
                while (floatBits(float(double(locked) - v)) != floatBits(original)) {
                    locked = std::nextafter(locked, original);
                    v = double(locked) - double(original);
                }
                data[index] = locked;
                if (v == 0.0)
                    continue;
                result.key.entries.push_back({report.layer, index, v});
                report.positions.push_back(index);
                report.before.push_back(original);
                report.after.push_back(locked);
            }
            summarise(w, report.meanAfter, report.stdAfter);
        }
        result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

        SecretKey &key = result.key;
        key.settings = s;
        key.settings.layers = *layerSet;
        key.originalFingerprint = originalFingerprint;
        key.lockedFingerprint = result.locked.fingerprint();
        key.parameterCount = result.locked.parameterCount();
        key.createdAt = QDateTime::currentDateTimeUtc().toString(Qt::ISODate).toStdString();
        key.createdBy = std::string("ParamLock ") + PARAMLOCK_VERSION;
        if (key.entries.empty())
            return Error{"no weight was changed: the encryption set's loss was already above T_loss "
                         "or the gradients vanished"};

        auto check = unlockModel(result.locked, key);
        if (!check)
            return Error{"internal error: the new key does not restore the original model (" + check.error()
                + "); nothing was written"};
        return std::move(result);
    });
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

Expected<Model> unlockModel(const Model &locked, const SecretKey &key)
{
    const KeyFit fit = checkKey(locked, key);
    if (!fit.fits())
        return Error{fit.message};
    return guarded("unlocking failed", [&]() -> Expected<Model> {
        Model restored = locked.clone();
        ModelImpl &impl = restored.impl();
        std::map<std::string, float *> data;
        for (const auto &w : impl.weights())
            data[w.name] = flatData(w.tensor);
        {
            torch::NoGradGuard noGrad;
            for (const KeyEntry &e : key.entries) {
                float &value = data.at(e.layer)[e.index];
                value = float(double(value) - e.perturbation);
            }
        }
        if (restored.fingerprint() != key.originalFingerprint)
            return Error{"the key does not restore the original weights (fingerprint mismatch after unlocking): "
                         "the key or the model was altered"};
        return restored;
    });
}

} // namespace paramlock
