#include "attacks.h"

#include "advparams.h"
#include "modelimpl.h"
#include "training.h"
#include "weightsearch.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
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

/** The k-th smallest value of a flat tensor (k counted from 1). */
float kthSmallest(const torch::Tensor &flat, int64_t k)
{
    k = std::clamp<int64_t>(k, 1, flat.numel());
    return std::get<0>(flat.kthvalue(k)).item<float>();
}

} // namespace

AttackerSplit splitForAttacker(const Dataset &test, double fraction, uint64_t seed)
{
    std::vector<int64_t> order(static_cast<size_t>(test.size()));
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(seed);
    std::shuffle(order.begin(), order.end(), rng);
    const auto cut = static_cast<size_t>(std::llround(fraction * double(test.size())));
    AttackerSplit split;
    split.attacker = test.subset(std::vector<int64_t>(order.begin(), order.begin() + long(cut)));
    split.holdout = test.subset(std::vector<int64_t>(order.begin() + long(cut), order.end()));
    return split;
}

Expected<AttackCurve> fineTuneAttack(const Model &locked, const AttackerSplit &data, const FineTuneOptions &options,
    Progress &progress, int64_t evalLimit)
{
    if (data.attacker.size() == 0 || data.holdout.size() == 0)
        return Error{"the fine-tuning attack needs samples to train on and samples to evaluate on"};
    if (options.epochs < 1 || options.batchSize < 1)
        return Error{"epochs and batch size must be positive"};
    return guarded("fine-tuning attack failed", [&]() -> Expected<AttackCurve> {
        const auto start = std::chrono::steady_clock::now();
        AttackCurve curve;
        curve.attack = "finetune";
        curve.xLabel = "epochs";
        Model model = locked.clone();
        ModelImpl &impl = model.impl();
        auto optimizer = makeOptimizer(impl, options.optimizer, options.learningRate, 0.0);
        if (!optimizer)
            return Error{"unknown optimizer \"" + options.optimizer + "\" (use sgd or adam)"};
        auto before = accuracyOn(model, data.holdout, evalLimit);
        if (!before)
            return Error{before.error()};
        curve.points.push_back({0.0, *before});
        std::mt19937_64 rng(options.seed);
        torch::manual_seed(options.seed);
        std::vector<int64_t> order(static_cast<size_t>(data.attacker.size()));
        std::iota(order.begin(), order.end(), 0);
        const Normalization &norm = model.metadata().normalization;
        for (int epoch = 1; epoch <= options.epochs; ++epoch) {
            std::shuffle(order.begin(), order.end(), rng);
            trainEpoch(impl, *optimizer, data.attacker, order, options.batchSize, norm);
            if (std::find(options.reportAt.begin(), options.reportAt.end(), epoch) != options.reportAt.end()
                || epoch == options.epochs) {
                auto acc = accuracyOn(model, data.holdout, evalLimit);
                if (!acc)
                    return Error{acc.error()};
                curve.points.push_back({double(epoch), *acc});
            }
            if (!progress.advance(double(epoch) / double(options.epochs), "fine-tuning"))
                return Error{"attack cancelled"};
        }
        curve.seconds = secondsSince(start);
        return curve;
    });
}

Expected<AttackCurve> pruningAttack(const Model &locked, const Dataset &test, const std::vector<double> &rates,
    bool global, Progress &progress, int64_t evalLimit)
{
    for (double r : rates)
        if (!(r >= 0.0 && r <= 1.0))
            return Error{"pruning rates must lie in [0, 1]"};
    return guarded("pruning attack failed", [&]() -> Expected<AttackCurve> {
        const auto start = std::chrono::steady_clock::now();
        AttackCurve curve;
        curve.attack = global ? "prune-global" : "prune-layer";
        curve.xLabel = "fraction of conv/FC weights pruned";
        for (size_t i = 0; i < rates.size(); ++i) {
            Model model = locked.clone();
            const auto weights = model.impl().weights();
            torch::NoGradGuard noGrad;
            if (global && rates[i] > 0.0) {
                std::vector<torch::Tensor> all;
                for (const auto &w : weights)
                    all.push_back(w.tensor.detach().abs().flatten());
                const auto flat = torch::cat(all);
                const auto k = static_cast<int64_t>(std::llround(rates[i] * double(flat.numel())));
                if (k > 0) {
                    // Ties at the threshold are pruned by position so that exactly k weights go.
                    const auto order = flat.argsort();
                    auto keep = torch::ones_like(flat);
                    keep.index_fill_(0, order.slice(0, 0, k), 0.0f);
                    int64_t offset = 0;
                    for (const auto &w : weights) {
                        w.tensor.mul_(keep.slice(0, offset, offset + w.tensor.numel()).view(w.tensor.sizes()));
                        offset += w.tensor.numel();
                    }
                }
            } else if (rates[i] > 0.0) {
                for (const auto &w : weights) {
                    const auto flat = w.tensor.detach().abs().flatten();
                    const auto k = static_cast<int64_t>(std::llround(rates[i] * double(flat.numel())));
                    if (k == 0)
                        continue;
                    auto keep = torch::ones_like(flat);
                    keep.index_fill_(0, flat.argsort().slice(0, 0, k), 0.0f);
                    w.tensor.mul_(keep.view(w.tensor.sizes()));
                }
            }
            auto acc = accuracyOn(model, test, evalLimit);
            if (!acc)
                return Error{acc.error()};
            curve.points.push_back({rates[i], *acc});
            if (!progress.advance(double(i + 1) / double(rates.size()), "pruning"))
                return Error{"attack cancelled"};
        }
        curve.seconds = secondsSince(start);
        return curve;
    });
}

Expected<AttackCurve> normClipAttack(const Model &locked, const Dataset &test, const std::vector<double> &percentiles,
    Progress &progress, int64_t evalLimit)
{
    for (double p : percentiles)
        if (!(p >= 0.0 && p < 50.0))
            return Error{"clip percentiles must lie in [0, 50)"};
    return guarded("norm-clipping attack failed", [&]() -> Expected<AttackCurve> {
        const auto start = std::chrono::steady_clock::now();
        AttackCurve curve;
        curve.attack = "clip";
        curve.xLabel = "percentile clipped at each end";
        for (size_t i = 0; i < percentiles.size(); ++i) {
            Model model = locked.clone();
            torch::NoGradGuard noGrad;
            for (const auto &w : model.impl().weights()) {
                const auto flat = w.tensor.detach().flatten();
                const int64_t n = flat.numel();
                const auto low = static_cast<int64_t>(std::floor(percentiles[i] / 100.0 * double(n - 1))) + 1;
                const auto high = static_cast<int64_t>(std::ceil((1.0 - percentiles[i] / 100.0) * double(n - 1))) + 1;
                w.tensor.clamp_(kthSmallest(flat, low), kthSmallest(flat, high));
            }
            auto acc = accuracyOn(model, test, evalLimit);
            if (!acc)
                return Error{acc.error()};
            curve.points.push_back({percentiles[i], *acc});
            if (!progress.advance(double(i + 1) / double(percentiles.size()), "clipping"))
                return Error{"attack cancelled"};
        }
        curve.seconds = secondsSince(start);
        return curve;
    });
}

Expected<AdaptiveResult> adaptiveAttack(const Model &locked, const AttackerSplit &data, const AdaptiveOptions &options,
    const SecretKey *key, Progress &progress, int64_t evalLimit)
{
    if (options.variant != "paper" && options.variant != "global" && options.variant != "swap")
        return Error{"unknown adaptive attack \"" + options.variant + "\" (paper, global, swap)"};
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

        if (options.variant == "paper") {
            const int total = int(weights.size()) * options.iterations;
            int done = 0;
            for (size_t li = 0; li < weights.size(); ++li) {
                gradientsOnlyFor(impl, {weights[li].tensor});
                for (int it = 0; it < options.iterations; ++it, ++done) {
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
            const int total = int(weights.size()) * options.iterations;
            for (int it = 0; it < total; ++it) {
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
            for (int64_t swapped = 0; swapped + 2 <= options.budget; swapped += 2) {
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
                if (!progress.advance(double(swapped + 2) / double(options.budget), "adaptive attack"))
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
        if (key) {
            result.secretHits = 0;
            result.secretPositions = int64_t(key->entries.size());
            for (const KeyEntry &e : key->entries)
                for (size_t li = 0; li < weights.size(); ++li)
                    if (weights[li].name == e.layer && changed.count({li, e.index}))
                        ++result.secretHits;
        }
        result.seconds = secondsSince(start);
        return result;
    });
}

Expected<std::vector<LayerDetection>> detectionAnalysis(const Model &locked, const SecretKey &key)
{
    auto original = unlockModel(locked, key);
    if (!original)
        return Error{original.error()};
    return guarded("detection analysis failed", [&]() -> Expected<std::vector<LayerDetection>> {
        std::vector<LayerDetection> out;
        const auto lockedWeights = locked.impl().weights();
        const auto originalWeights = original->impl().weights();
        for (size_t li = 0; li < lockedWeights.size(); ++li) {
            std::set<int64_t> secret;
            for (const KeyEntry &e : key.entries)
                if (e.layer == lockedWeights[li].name)
                    secret.insert(e.index);
            if (secret.empty())
                continue;
            LayerDetection d;
            d.layer = lockedWeights[li].name;
            d.secretCount = int64_t(secret.size());
            const auto w = lockedWeights[li].tensor.detach().to(torch::kDouble);
            const auto o = originalWeights[li].tensor.detach().to(torch::kDouble);
            d.meanChange = (w.mean() - o.mean()).item<double>();
            d.stdChange = (w.std() - o.std()).item<double>();
            d.std = o.std().item<double>();
            auto hits = [&](const torch::Tensor &score) {
                const auto top = std::get<1>(score.flatten().topk(d.secretCount)).contiguous();
                int64_t n = 0;
                for (int64_t i = 0; i < top.numel(); ++i)
                    n += secret.count(top.data_ptr<int64_t>()[i]) ? 1 : 0;
                return n;
            };
            d.zScoreHits = hits(((w - w.mean()) / w.std()).abs());
            // Against its own filter (conv) or row (linear): the weights that feed one output.
            const auto rows = w.reshape({w.size(0), -1});
            d.filterHits = rows.size(1) > 1
                ? hits(((rows - rows.mean(1, true)) / rows.std(1, true, true).clamp_min(1e-12)).abs())
                : 0;
            out.push_back(d);
        }
        return out;
    });
}

} // namespace paramlock
