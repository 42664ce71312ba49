// Unlocking an NNSplitter lock: every obfuscated weight gets its original value back, bit for bit; the result is
// proven to be the original by its fingerprint, and on a mismatch every replaced value is put back, so the model
// stays locked.
#include "internal.h"

#include <chrono>
#include <cmath>
#include <map>

namespace paramlock::nnsplitter {

KeyFit checkEntries(const Model &model, const NNSplitterKey &secret)
{
    KeyFit fit;
    std::map<std::string, int64_t> sizes;
    for (const auto &w : model.impl().weights())
        sizes[w.name] = w.tensor.numel();
    for (const OriginalValue &e : secret.entries) {
        const auto it = sizes.find(e.layer);
        fit.state = KeyFit::State::BadEntries;
        if (it == sizes.end()) {
            fit.message = "the key names the layer " + e.layer + ", which this model does not have";
            return fit;
        }
        if (e.index < 0 || e.index >= it->second) {
            fit.message = "the key's index " + std::to_string(e.index) + " is outside " + e.layer + " ("
                + std::to_string(it->second) + " weights)";
            return fit;
        }
        if (!std::isfinite(e.value)) {
            fit.message = "the key holds a non-finite original value for " + e.layer;
            return fit;
        }
    }
    fit.state = KeyFit::State::Fits;
    fit.message = "the key fits this model";
    return fit;
}

Expected<void> restoreOriginals(Model &model, const SecretKey &key, const NNSplitterKey &secret, UnlockTiming &timing)
{
    return guarded("unlocking failed", [&]() -> Expected<void> {
        auto clock = std::chrono::steady_clock::now();
        auto lap = [&clock] {
            const auto now = std::chrono::steady_clock::now();
            const double seconds = std::chrono::duration<double>(now - clock).count();
            clock = now;
            return seconds;
        };
        std::map<std::string, float *> data;
        for (const auto &w : model.impl().weights())
            data[w.name] = floatData(w.tensor);
        std::vector<float> replaced;
        replaced.reserve(secret.entries.size());
        torch::NoGradGuard noGrad;
        for (const OriginalValue &e : secret.entries) {
            float &value = data.at(e.layer)[e.index];
            replaced.push_back(value);
            value = e.value;
        }
        timing.applySeconds = lap();
        const bool restoredExactly = model.fingerprint() == key.originalFingerprint;
        timing.verifySeconds = lap();
        if (!restoredExactly) {
            for (size_t i = secret.entries.size(); i-- > 0;)
                data.at(secret.entries[i].layer)[secret.entries[i].index] = replaced[i];
            return Error{"the key does not restore the original weights (fingerprint mismatch after unlocking): "
                         "the key or the model was altered"};
        }
        return {};
    });
}

} // namespace paramlock::nnsplitter
