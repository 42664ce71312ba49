// A dense lock from end to end: the layers resolved, a fresh secret drawn, every chosen layer's weights permuted by
// the keyed permutation, the key built and proven to restore the original before anything is returned; and the
// unlock, which applies the inverse permutations and checks the original's fingerprint.
#include "dense.h"

#include "layerset.h"
#include "modelimpl.h"

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>

namespace paramlock {

namespace {

constexpr const char *kMethodId = "dense";

/** The weight tensors of `layers`, by name, in the key's order. */
Expected<std::vector<torch::Tensor>> tensorsOf(const Model &model, const std::vector<DenseLayer> &layers)
{
    std::map<std::string, torch::Tensor> byName;
    for (const WeightRef &w : model.impl().weights())
        byName[w.name] = w.tensor;
    std::vector<torch::Tensor> out;
    for (const DenseLayer &l : layers) {
        const auto it = byName.find(l.layer);
        if (it == byName.end())
            return Error{"the key names the layer " + l.layer + ", which this model does not have"};
        if (it->second.numel() != l.count)
            return Error{"the key's layer " + l.layer + " has " + std::to_string(l.count) + " weights, the model's "
                + std::to_string(it->second.numel())};
        out.push_back(it->second);
    }
    return out;
}

/** Position i takes the value from perm[i] (lock), or gives it back (unlock). */
void permute(float *data, const std::vector<int64_t> &perm, bool inverse)
{
    const std::vector<float> copy(data, data + perm.size());
    for (size_t i = 0; i < perm.size(); ++i) {
        if (inverse)
            data[perm[i]] = copy[i];
        else
            data[i] = copy[size_t(perm[i])];
    }
}

void permuteAll(const std::vector<torch::Tensor> &tensors, const DenseSecret &secret, bool inverse)
{
    torch::NoGradGuard noGrad;
    for (size_t l = 0; l < tensors.size(); ++l)
        permute(floatData(tensors[l]), keyedPermutation(secret, uint64_t(l), tensors[l].numel()), inverse);
}

bool sameBits(float a, float b)
{
    return std::memcmp(&a, &b, sizeof(float)) == 0;
}

} // namespace

Expected<std::vector<DenseLayer>> denseLayers(const Model &model, const DenseSettings &settings)
{
    LayerSelection selection = settings.layers;
    if (selection.kind == LayerSelection::Kind::ModeDefault)
        selection.kind = LayerSelection::Kind::All;
    auto names = resolveLayerSelection(model, selection, settings.seed);
    if (!names)
        return Error{names.error()};
    std::vector<DenseLayer> out;
    for (const std::string &name : *names) {
        auto values = model.weights(name);
        if (!values)
            return Error{values.error()};
        out.push_back({name, int64_t(values->size())});
    }
    return out;
}

Expected<DenseLock> denseLock(
    Model &model, bool inPlace, const DenseSettings &settings, Progress &progress, const DenseSecret *secret)
{
    auto layers = denseLayers(model, settings);
    if (!layers)
        return Error{layers.error()};
    if (sodium_init() < 0)
        return Error{"the system's random source (libsodium) could not be initialised"};
    return guarded("locking failed", [&]() -> Expected<DenseLock> {
        const auto start = std::chrono::steady_clock::now();
        DenseLock result;
        result.secret.settings = settings;
        result.secret.layers = *layers;
        if (secret)
            result.secret.secret = *secret;
        else
            randombytes_buf(result.secret.secret.data(), result.secret.secret.size());
        const std::string originalFingerprint = model.fingerprint();
        result.locked = inPlace ? model : model.clone();
        auto tensors = tensorsOf(result.locked, *layers);
        if (!tensors)
            return Error{tensors.error()};

        // Permute layer by layer; a cancel puts back what was permuted so far.
        size_t done = 0;
        for (; done < tensors->size(); ++done) {
            if (!progress.advance(double(done) / double(tensors->size()), "permuting " + (*layers)[done].layer))
                break;
            torch::NoGradGuard noGrad;
            permute(floatData((*tensors)[done]),
                keyedPermutation(result.secret.secret, uint64_t(done), (*tensors)[done].numel()), false);
        }
        if (done < tensors->size()) {
            tensors->resize(done);
            permuteAll(*tensors, result.secret.secret, true);
            return Error{"locking cancelled"};
        }

        // The reports: each layer's changed positions (a weight whose value moved to a place with the same value is
        // not changed) against the original, which is undone and redone once more to prove the key restores it.
        int64_t total = 0;
        for (const DenseLayer &l : *layers)
            total += l.count;
        result.key = keyEnvelope(kMethodId, {}, originalFingerprint, result.locked, total, result.secret.toPayload());
        permuteAll(*tensors, result.secret.secret, true);
        const bool exact = result.locked.fingerprint() == originalFingerprint;
        std::vector<std::vector<float>> before;
        for (const torch::Tensor &t : *tensors) {
            const float *v = floatData(t);
            before.emplace_back(v, v + t.numel());
        }
        permuteAll(*tensors, result.secret.secret, false);
        if (!exact)
            return Error{"internal error: the new key does not restore the original model; nothing was written"};
        if (result.locked.fingerprint() != result.key.lockedFingerprint)
            return Error{"internal error: the locked model changed while its key was checked"};
        for (size_t l = 0; l < tensors->size(); ++l) {
            const torch::Tensor &t = (*tensors)[l];
            LayerLockReport rep;
            rep.layer = (*layers)[l].layer;
            rep.count = t.numel();
            const auto [low, high] = std::minmax_element(before[l].begin(), before[l].end());
            rep.min = rep.count > 0 ? *low : 0.0f;
            rep.max = rep.count > 0 ? *high : 0.0f;
            rep.lowerBound = rep.min;
            rep.upperBound = rep.max;
            rep.steps = 1;
            summarise(t, rep.meanAfter, rep.stdAfter);
            rep.meanBefore = rep.meanAfter; // the same multiset of values
            rep.stdBefore = rep.stdAfter;
            const float *after = floatData(t);
            for (int64_t i = 0; i < rep.count; ++i) {
                if (sameBits(after[i], before[l][size_t(i)]))
                    continue;
                rep.positions.push_back(i);
                rep.before.push_back(before[l][size_t(i)]);
                rep.after.push_back(after[i]);
            }
            result.layers.push_back(std::move(rep));
        }
        result.iterations = 1;
        result.reachedTarget = true;
        result.stopReason = "every weight of " + std::to_string(layers->size()) + " layer"
            + (layers->size() == 1 ? "" : "s") + " permuted (" + std::to_string(total) + " weights)";
        result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return result;
    });
}

Expected<void> denseRestore(Model &model, const SecretKey &key, const DenseKey &secret, UnlockTiming &timing)
{
    return guarded("unlocking failed", [&]() -> Expected<void> {
        auto clock = std::chrono::steady_clock::now();
        auto tensors = tensorsOf(model, secret.layers);
        if (!tensors)
            return Error{tensors.error()};
        permuteAll(*tensors, secret.secret, true);
        timing.applySeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - clock).count();
        clock = std::chrono::steady_clock::now();
        const bool restoredExactly = model.fingerprint() == key.originalFingerprint;
        timing.verifySeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - clock).count();
        if (!restoredExactly) {
            permuteAll(*tensors, secret.secret, false);
            return Error{"the key does not restore the original weights (fingerprint mismatch after unlocking): "
                         "the key or the model was altered"};
        }
        return {};
    });
}

} // namespace paramlock
