#include "attacks.h"

#include "modelimpl.h"
#include "training.h"

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

/** The k-th smallest value of a flat tensor (k counted from 1). */
float kthSmallest(const torch::Tensor &flat, int64_t k)
{
    k = std::clamp<int64_t>(k, 1, flat.numel());
    return std::get<0>(flat.kthvalue(k)).item<float>();
}

/** The point, with what the observer (if any) measures on the model. */
AttackPoint observed(double x, double accuracy, const Model &model, const AttackObserver &observe)
{
    AttackPoint point{x, accuracy, {}};
    if (observe) {
        auto more = observe(model);
        if (!more)
            throw Failure(more.error());
        point.observed = std::move(*more);
    }
    return point;
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
    Progress &progress, int64_t evalLimit, const AttackObserver &observe)
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
        curve.points.push_back(observed(0.0, *before, model, observe));
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
                curve.points.push_back(observed(double(epoch), *acc, model, observe));
            }
            if (!progress.advance(double(epoch) / double(options.epochs), "fine-tuning"))
                return Error{"attack cancelled"};
        }
        curve.seconds = secondsSince(start);
        return curve;
    });
}

Expected<AttackCurve> pruningAttack(const Model &locked, const Dataset &test, const std::vector<double> &rates,
    bool global, Progress &progress, int64_t evalLimit, const AttackObserver &observe)
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
            curve.points.push_back(observed(rates[i], *acc, model, observe));
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
            curve.points.push_back({percentiles[i], *acc, {}});
            if (!progress.advance(double(i + 1) / double(percentiles.size()), "clipping"))
                return Error{"attack cancelled"};
        }
        curve.seconds = secondsSince(start);
        return curve;
    });
}

} // namespace paramlock
