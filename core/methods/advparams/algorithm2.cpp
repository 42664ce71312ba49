// AdvParams Algorithm 2: for every key entry, w = w~ - v. O(n_e): microseconds. The result is proven to be the
// original by its fingerprint; on a mismatch every replaced value is put back, so the model stays locked.
#include "lockrun.h"

#include "internal.h"

#include <chrono>
#include <cmath>

namespace paramlock::advparams {

std::map<std::string, float *> weightData(const ModelImpl &impl)
{
    std::map<std::string, float *> data;
    for (const auto &w : impl.weights())
        data[w.name] = floatData(w.tensor);
    return data;
}

std::vector<float> subtractKey(const std::map<std::string, float *> &data, const std::vector<KeyEntry> &entries)
{
    std::vector<float> replaced;
    replaced.reserve(entries.size());
    torch::NoGradGuard noGrad;
    for (const KeyEntry &e : entries) {
        float &value = data.at(e.layer)[e.index];
        replaced.push_back(value);
        value = float(double(value) - e.perturbation);
    }
    return replaced;
}

void putBack(const std::map<std::string, float *> &data, const std::vector<KeyEntry> &entries,
    const std::vector<float> &replaced)
{
    torch::NoGradGuard noGrad;
    for (size_t i = entries.size(); i-- > 0;)
        data.at(entries[i].layer)[entries[i].index] = replaced[i];
}

KeyFit checkEntries(const Model &model, const AdvParamsKey &secret)
{
    KeyFit fit;
    std::map<std::string, int64_t> sizes;
    for (const auto &w : model.impl().weights())
        sizes[w.name] = w.tensor.numel();
    for (const KeyEntry &e : secret.entries) {
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

Expected<void> restoreWeights(Model &model, const SecretKey &key, const AdvParamsKey &secret, UnlockTiming &timing)
{
    return guarded("unlocking failed", [&]() -> Expected<void> {
        auto clock = std::chrono::steady_clock::now();
        auto lap = [&clock] {
            const auto now = std::chrono::steady_clock::now();
            const double seconds = std::chrono::duration<double>(now - clock).count();
            clock = now;
            return seconds;
        };
        const auto data = weightData(model.impl());
        const std::vector<float> lockedValues = subtractKey(data, secret.entries);
        timing.applySeconds = lap();
        const bool restoredExactly = model.fingerprint() == key.originalFingerprint;
        timing.verifySeconds = lap();
        if (!restoredExactly) {
            putBack(data, secret.entries, lockedValues);
            return Error{"the key does not restore the original weights (fingerprint mismatch after unlocking): "
                         "the key or the model was altered"};
        }
        return {};
    });
}

} // namespace paramlock::advparams
