// The paper's adaptive attack (Table V): the attacker knows AdvParams but not the key, re-runs the weight selection
// on the locked model with data of its own and undoes what it finds; and the same against the strong mode's swaps.
#include "advparamsattacks.h"

#include "modelimpl.h"
#include "training.h"
#include "weightsearch.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <set>

namespace paramlock {

namespace {

double secondsSince(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/** Sets requires_grad on exactly the given tensors of a working copy. */
void gradientsOnlyFor(ModelImpl &impl, const std::vector<torch::Tensor> &tensors)
{
    for (auto &p : impl.parameters())
        p.second.set_requires_grad(false);
    for (const auto &t : tensors)
        t.set_requires_grad(true);
}

double crossEntropyBackward(ModelImpl &impl, const Dataset &data, const Normalization &norm, int batch)
{
    double loss = 0.0;
    for (int64_t begin = 0; begin < data.size(); begin += batch) {
        const int64_t end = std::min(data.size(), begin + batch);
        auto l =
            torch::nn::functional::cross_entropy(impl.forward(inputTensor(data, begin, end, norm)),
                labelTensor(data, begin, end), torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
            / double(data.size());
        l.backward();
        loss += l.item<double>();
    }
    return loss;
}

void zeroGradients(const std::vector<WeightRef> &weights)
{
    for (const auto &w : weights)
        if (w.tensor.grad().defined())
            w.tensor.mutable_grad().zero_();
}

} // namespace

std::vector<std::string> adaptiveVariants()
{
    return {"paper", "global", "swap"};
}

Expected<AdaptiveResult> adaptiveAttack(const Model &locked, const AttackerSplit &data, const AdaptiveOptions &options,
    const SecretKey *key, Progress &progress, int64_t evalLimit)
{
    const std::vector<std::string> variants = adaptiveVariants();
    if (std::find(variants.begin(), variants.end(), options.variant) == variants.end())
        return Error{"unknown adaptive attack \"" + options.variant + "\" (paper, global, swap)"};
    std::optional<AdvParamsKey> secret;
    if (key) {
        auto decoded = AdvParamsKey::of(*key);
        if (!decoded)
            return Error{decoded.error()};
        secret = std::move(*decoded);
    }
    if (data.attacker.size() == 0)
        return Error{"the adaptive attack needs samples of its own"};
    return guarded("adaptive attack failed", [&]() -> Expected<AdaptiveResult> {
        const auto start = std::chrono::steady_clock::now();
        AdaptiveResult result;
        result.variant = options.variant;
        auto before = accuracyOn(locked, data.holdout, evalLimit);
        if (!before)
            return Error{before.error()};
        result.accuracyBefore = *before;

        Model model = locked.clone();
        ModelImpl &impl = model.impl();
        impl.setTraining(false);
        const auto weights = impl.weights();
        const Normalization &norm = model.metadata().normalization;
        constexpr int kBatch = 100;
        std::set<std::pair<size_t, int64_t>> changed;
        std::vector<std::vector<int64_t>> excluded(weights.size()); // positions the attack gave up on
        std::vector<double> lows, highs, ranges;
        for (const auto &w : weights) {
            const double lo = w.tensor.min().item<double>(), hi = w.tensor.max().item<double>();
            ranges.push_back(hi - lo);
            lows.push_back(lo + options.alpha * (hi - lo));
            highs.push_back(hi - options.alpha * (hi - lo));
        }
        auto eligibilityOf = [&](size_t li) {
            const auto &t = weights[li].tensor;
            return Eligibility{t.data_ptr<float>(), t.numel(), &excluded[li], false, 0.0f, 0.0f};
        };
        auto gradientOf = [&](size_t li) -> const float * {
            const auto &g = weights[li].tensor.grad();
            return g.defined() && g.is_contiguous() ? g.data_ptr<float>() : nullptr;
        };
        auto steepestIn = [&](size_t li) {
            const float *g = gradientOf(li);
            return g ? steepestEligible(g, eligibilityOf(li)) : Steepest{};
        };
        // One Eq. 3 step against the gradient, clipped like the lock.
        auto stepBack = [&](size_t li, int64_t t, float g) {
            float *data = weights[li].tensor.data_ptr<float>();
            const double candidate = double(data[t]) - options.theta * (g > 0 ? 1.0 : -1.0) * ranges[li];
            if (candidate < lows[li] || candidate > highs[li])
                excludePosition(excluded[li], t);
            torch::NoGradGuard noGrad;
            data[t] = float(std::clamp(candidate, lows[li], highs[li]));
            changed.insert({li, t});
        };

        const int64_t layerCount = std::max<int64_t>(1, int64_t(weights.size()));
        if (options.variant == "paper") {
            const int perLayer = options.maxPasses > 0
                ? int(std::clamp<int64_t>(options.maxPasses / layerCount, 1, options.iterations))
                : options.iterations;
            const int total = int(weights.size()) * perLayer;
            int done = 0;
            for (size_t li = 0; li < weights.size(); ++li) {
                gradientsOnlyFor(impl, {weights[li].tensor});
                for (int it = 0; it < perLayer; ++it, ++done) {
                    zeroGradients(weights);
                    crossEntropyBackward(impl, data.attacker, norm, kBatch);
                    const Steepest s = steepestIn(li);
                    if (s.index < 0 || s.gradient == 0.0f)
                        break;
                    stepBack(li, s.index, s.gradient);
                    if (!progress.advance(double(done + 1) / double(total), "adaptive attack"))
                        return Error{"attack cancelled"};
                }
            }
        } else if (options.variant == "global") {
            std::vector<torch::Tensor> all;
            for (const auto &w : weights)
                all.push_back(w.tensor);
            gradientsOnlyFor(impl, all);
            int64_t total = layerCount * options.iterations;
            if (options.maxPasses > 0)
                total = std::min(total, options.maxPasses);
            for (int64_t it = 0; it < total; ++it) {
                zeroGradients(weights);
                crossEntropyBackward(impl, data.attacker, norm, kBatch);
                double best = 0.0;
                size_t bestLayer = 0;
                int64_t bestIndex = -1;
                float bestGradient = 0.0f;
                for (size_t li = 0; li < weights.size(); ++li) {
                    // |g| x range: the loss change of one Eq. 3 step in this layer.
                    const Steepest s = steepestIn(li);
                    const double score = std::abs(double(s.gradient)) * ranges[li];
                    if (s.index >= 0 && score > best) {
                        best = score;
                        bestLayer = li;
                        bestIndex = s.index;
                        bestGradient = s.gradient;
                    }
                }
                if (bestIndex < 0)
                    break;
                stepBack(bestLayer, bestIndex, bestGradient);
                if (!progress.advance(double(it + 1) / double(total), "adaptive attack"))
                    return Error{"attack cancelled"};
            }
        } else {
            std::vector<torch::Tensor> all;
            for (const auto &w : weights)
                all.push_back(w.tensor);
            gradientsOnlyFor(impl, all);
            constexpr int64_t kPool = 8;
            int64_t budget = options.budget;
            if (options.maxPasses > 0)
                budget = std::min(budget, 2 * options.maxPasses);
            for (int64_t swapped = 0; swapped + 2 <= budget; swapped += 2) {
                zeroGradients(weights);
                crossEntropyBackward(impl, data.attacker, norm, kBatch);
                double best = 0.0;
                size_t bestLayer = 0;
                int64_t bi = -1, bj = -1;
                for (size_t li = 0; li < weights.size(); ++li) {
                    const float *g = gradientOf(li);
                    if (!g)
                        continue;
                    const Eligibility eligible = eligibilityOf(li);
                    const std::vector<int64_t> steep = steepestEligibleK(g, eligible, kPool);
                    // The first-order loss decrease of exchanging w_i and w_j: the lock's search, downhill.
                    const std::vector<Partner> partners = bestSwapPartners(g, eligible, steep, -1.0f);
                    for (size_t k = 0; k < steep.size(); ++k) {
                        const double gain = double(partners[k].score);
                        if (partners[k].index >= 0 && gain > best) {
                            best = gain;
                            bestLayer = li;
                            bi = steep[k];
                            bj = partners[k].index;
                        }
                    }
                }
                if (bi < 0 || bj == bi)
                    break;
                float *d = weights[bestLayer].tensor.data_ptr<float>();
                {
                    torch::NoGradGuard noGrad;
                    std::swap(d[bi], d[bj]);
                }
                excludePosition(excluded[bestLayer], bi);
                excludePosition(excluded[bestLayer], bj);
                changed.insert({bestLayer, bi});
                changed.insert({bestLayer, bj});
                if (!progress.advance(double(swapped + 2) / double(budget), "adaptive attack"))
                    return Error{"attack cancelled"};
            }
        }
        for (auto &p : impl.parameters())
            p.second.set_requires_grad(true);

        auto after = accuracyOn(model, data.holdout, evalLimit);
        if (!after)
            return Error{after.error()};
        result.accuracyAfter = *after;
        result.weightsChanged = int64_t(changed.size());
        if (secret) {
            result.secretHits = 0;
            result.secretPositions = int64_t(secret->entries.size());
            for (const KeyEntry &e : secret->entries)
                for (size_t li = 0; li < weights.size(); ++li)
                    if (weights[li].name == e.layer && changed.count({li, e.index}))
                        ++result.secretHits;
        }
        result.seconds = secondsSince(start);
        return result;
    });
}

} // namespace paramlock
