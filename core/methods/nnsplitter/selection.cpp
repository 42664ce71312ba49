// Which k filters of each eligible layer NNSplitter obfuscates (METHODS.md §2, step 5). Three selectors:
//
// - saliency: one gradient pass over (part of) the training data; a filter scores the first-order gain of the
//   weights its window would take (its share of the budget nearest c): sum of g x (the bound g points at - w), what
//   the loss gains when the ascent drives them to the clamp range's end; the k best of each layer are taken;
// - random: N filter sets drawn with the seed, each scored by a short obfuscation (probe-epochs on the first
//   probe-samples training images); the best is kept, and the final ascent starts where its probe ended;
// - reinforce: the paper's controller. A policy over each layer's filters (one softmax per layer: the authors' RNN
//   without its hidden state) samples a filter set per episode; the reward is minus the validation accuracy after the
//   short obfuscation; REINFORCE with the batch-mean baseline and the RIGHT sign (the released code's is inverted:
//   its policy learns away from good filters), 5 episodes per update. The best episode is kept, as for random.
#include "internal.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace paramlock::nnsplitter {

namespace {

/** Images of the saliency pass: enough for a stable ranking, a fraction of one epoch. */
constexpr int64_t kSaliencyImages = 1000;
/** The policy's step on the normalised advantage. */
constexpr double kPolicyLearningRate = 1.0;

Expected<FilterChoice> bySaliency(const SelectionContext &c)
{
    ModelImpl &impl = c.model.impl();
    const std::vector<EligibleLayer> &layers = c.layers;
    // Where each layer's window weights may go (the clamp range of the ascent).
    std::vector<double> low, high;
    for (const EligibleLayer &l : layers) {
        const torch::Tensor w = impl.weight(l.layer);
        low.push_back(w.min().item<double>());
        high.push_back(w.max().item<double>());
    }
    if (c.settings.range == ClampRange::Model)
        for (const WeightRef &w : impl.weights()) {
            const double lo = w.tensor.min().item<double>(), hi = w.tensor.max().item<double>();
            for (size_t l = 0; l < low.size(); ++l) {
                low[l] = std::min(low[l], lo);
                high[l] = std::max(high[l], hi);
            }
        }
    // A filter's share of the budget: the window takes about budget / (layers x k) weights from each chosen filter.
    const int64_t share = std::max<int64_t>(1,
        (c.budget + int64_t(layers.size()) * c.settings.filtersPerLayer - 1)
            / (int64_t(layers.size()) * c.settings.filtersPerLayer));
    FilterChoice choice(layers.size());
    for (size_t l = 0; l < layers.size(); ++l) {
        const torch::Tensor weight = impl.weight(layers[l].layer).contiguous();
        const torch::Tensor g = c.gradients[l].contiguous();
        const float *w = floatData(weight);
        const float *gv = g.data_ptr<float>();
        const int64_t size = layers[l].filterSize;
        std::vector<double> score(size_t(layers[l].filters), 0.0);
        std::vector<int64_t> order;
        order.reserve(size_t(size));
        for (int64_t f = 0; f < layers[l].filters; ++f) {
            // The filter's window: its live weights nearest c (the weights the data never reaches are never taken).
            const int64_t begin = f * size;
            order.clear();
            for (int64_t i = begin; i < begin + size; ++i)
                if (c.live.empty() || c.live[l][size_t(i)])
                    order.push_back(i);
            const int64_t take = std::min<int64_t>(share, int64_t(order.size()));
            if (take < 1)
                continue;
            std::nth_element(order.begin(), order.begin() + take - 1, order.end(), [&](int64_t a, int64_t b) {
                const double da = std::abs(double(w[a]) - c.centre), db = std::abs(double(w[b]) - c.centre);
                return da < db || (da == db && a < b);
            });
            // First order: what the loss gains when each window weight goes to the bound its gradient points at.
            for (int64_t i = 0; i < take; ++i) {
                const int64_t at = order[size_t(i)];
                const double g = double(gv[at]);
                score[size_t(f)] += g * ((g > 0.0 ? high[l] : low[l]) - double(w[at]));
            }
        }
        std::vector<int64_t> filters(static_cast<size_t>(layers[l].filters));
        std::iota(filters.begin(), filters.end(), 0);
        const int64_t k = std::min<int64_t>(c.settings.filtersPerLayer, layers[l].filters);
        std::partial_sort(filters.begin(), filters.begin() + k, filters.end(), [&](int64_t a, int64_t b) {
            return score[size_t(a)] > score[size_t(b)] || (score[size_t(a)] == score[size_t(b)] && a < b);
        });
        choice[l].assign(filters.begin(), filters.begin() + k);
        std::sort(choice[l].begin(), choice[l].end());
    }
    return choice;
}

/** A probe's outcome: its score and where it left the masked weights (in the mask's order). */
struct ProbeResult
{
    double accuracy = 1.0;
    std::vector<float> values;
};

/**
 * Scores a filter set: the validation accuracy after a short obfuscation on the first probe-samples training images;
 * the weights are put back after.
 */
Expected<ProbeResult> probe(const SelectionContext &c, const FilterChoice &choice, int episode, int episodes)
{
    auto mask = windowMask(c.model, c.layers, choice, c.centre, c.settings.window, c.budget, c.live);
    if (!mask)
        return Error{mask.error()};
    std::vector<MaskedWeights> masked = maskedWeights(c.model.impl(), *mask, c.settings.range);
    OriginalsGuard putBack{masked};
    AscentSpan span;
    span.base = 0.5 * double(episode) / double(episodes);
    span.span = 0.5 / double(episodes);
    span.label = "scoring filter set " + std::to_string(episode + 1) + " of " + std::to_string(episodes);
    LockData data = c.data;
    const int64_t images = std::min(c.settings.probeSamples, data.trainCount());
    data.trainInputs = data.trainInputs.slice(0, 0, images);
    data.trainLabels = data.trainLabels.slice(0, 0, images);
    auto ascent = runAscent(c.model.impl(), masked, data, c.settings, c.settings.probeEpochs, c.target,
        c.settings.seed + uint64_t(episode) + 1, c.progress, span);
    if (!ascent)
        return Error{ascent.error()};
    ProbeResult result;
    result.accuracy = ascent->bestAccuracy;
    for (const MaskedWeights &w : masked)
        for (int64_t i : w.indices)
            result.values.push_back(w.data[i]);
    return result;
}

/** k distinct filters per layer, each drawn from the softmax of `logits` over the filters not yet drawn. */
FilterChoice sample(const std::vector<std::vector<double>> &logits, int64_t k, std::mt19937_64 &rng,
    std::vector<std::vector<double>> *gradLogProb)
{
    FilterChoice choice(logits.size());
    if (gradLogProb)
        gradLogProb->assign(logits.size(), {});
    for (size_t l = 0; l < logits.size(); ++l) {
        const size_t filters = logits[l].size();
        std::vector<bool> taken(filters, false);
        if (gradLogProb)
            (*gradLogProb)[l].assign(filters, 0.0);
        for (int64_t j = 0; j < std::min<int64_t>(k, int64_t(filters)); ++j) {
            double top = -1e300;
            for (size_t f = 0; f < filters; ++f)
                if (!taken[f])
                    top = std::max(top, logits[l][f]);
            std::vector<double> p(filters, 0.0);
            double sum = 0.0;
            for (size_t f = 0; f < filters; ++f)
                if (!taken[f])
                    sum += (p[f] = std::exp(logits[l][f] - top));
            std::uniform_real_distribution<double> u(0.0, sum);
            double r = u(rng);
            size_t pick = filters;
            for (size_t f = 0; f < filters; ++f) {
                if (taken[f])
                    continue;
                pick = f;
                if ((r -= p[f]) < 0.0)
                    break;
            }
            // d log p(pick) / d logit_f = [f == pick] - p_f, over the filters still available.
            if (gradLogProb)
                for (size_t f = 0; f < filters; ++f)
                    if (!taken[f])
                        (*gradLogProb)[l][f] += (f == pick ? 1.0 : 0.0) - p[f] / sum;
            taken[pick] = true;
            choice[l].push_back(int64_t(pick));
        }
        std::sort(choice[l].begin(), choice[l].end());
    }
    return choice;
}

Expected<FilterChoice> bySearch(
    const SelectionContext &c, bool reinforce, std::vector<SelectionTrial> &trials, std::vector<float> &start)
{
    std::mt19937_64 rng(c.settings.seed ^ 0x6e6e73706c697474ULL);
    std::vector<std::vector<double>> logits;
    for (const EligibleLayer &l : c.layers)
        logits.emplace_back(size_t(l.filters), 0.0);
    const int episodes = std::max(1, c.settings.draws);
    FilterChoice bestChoice;
    double best = 2.0;
    struct Episode
    {
        double reward;
        std::vector<std::vector<double>> grad;
    };
    std::vector<Episode> batch;
    for (int e = 0; e < episodes; ++e) {
        Episode episode;
        const FilterChoice choice =
            sample(logits, c.settings.filtersPerLayer, rng, reinforce ? &episode.grad : nullptr);
        auto outcome = probe(c, choice, e, episodes);
        if (!outcome)
            return Error{outcome.error()};
        const double *accuracy = &outcome->accuracy;
        trials.push_back({e, *accuracy});
        if (*accuracy < best) {
            best = *accuracy;
            bestChoice = choice;
            start = outcome->values;
        }
        if (!reinforce)
            continue;
        episode.reward = -*accuracy;
        batch.push_back(std::move(episode));
        if (int(batch.size()) < kEpisodesPerUpdate && e + 1 < episodes)
            continue;
        // REINFORCE: ascend E[(R - b) grad log pi], b the batch's mean reward, advantages scaled to unit spread.
        double mean = 0.0, spread = 0.0;
        for (const Episode &ep : batch)
            mean += ep.reward / double(batch.size());
        for (const Episode &ep : batch)
            spread += (ep.reward - mean) * (ep.reward - mean) / double(batch.size());
        spread = std::sqrt(spread);
        if (spread > 1e-12)
            for (const Episode &ep : batch)
                for (size_t l = 0; l < logits.size(); ++l)
                    for (size_t f = 0; f < logits[l].size(); ++f)
                        logits[l][f] +=
                            kPolicyLearningRate * (ep.reward - mean) / spread * ep.grad[l][f] / double(batch.size());
        batch.clear();
    }
    return bestChoice;
}

} // namespace

Expected<std::vector<torch::Tensor>> firstGradients(
    ModelImpl &impl, const std::vector<EligibleLayer> &layers, const LockData &data, int batchSize, Progress &progress)
{
    std::vector<torch::Tensor> weights;
    for (const EligibleLayer &l : layers) {
        weights.push_back(impl.weight(l.layer));
        weights.back().set_requires_grad(true);
        weights.back().mutable_grad() = torch::Tensor();
    }
    const auto release = [&weights] {
        for (torch::Tensor &w : weights) {
            w.mutable_grad() = torch::Tensor();
            w.set_requires_grad(false);
        }
    };
    const int64_t n = std::min<int64_t>(kSaliencyImages, data.trainCount());
    const int64_t batch = std::max(1, batchSize);
    for (int64_t b = 0; b < n; b += batch) {
        if (!progress.advance(0.0, "ranking filters")) {
            release();
            return Error{"locking cancelled"};
        }
        const int64_t e = std::min(n, b + batch);
        (torch::nn::functional::cross_entropy(impl.forward(data.trainInputs.slice(0, b, e)),
             data.trainLabels.slice(0, b, e), torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
            / double(n))
            .backward();
    }
    std::vector<torch::Tensor> gradients;
    for (const torch::Tensor &w : weights)
        gradients.push_back(w.grad().defined() ? w.grad().detach().clone() : torch::zeros_like(w));
    release();
    return gradients;
}

LiveWeights liveWeights(const std::vector<torch::Tensor> &gradients)
{
    LiveWeights live;
    for (const torch::Tensor &g : gradients) {
        const torch::Tensor nonZero = g.ne(0).contiguous().to(torch::kUInt8);
        const uint8_t *v = nonZero.data_ptr<uint8_t>();
        live.emplace_back(v, v + nonZero.numel());
    }
    return live;
}

Expected<FilterChoice> chooseFilters(
    const SelectionContext &context, std::vector<SelectionTrial> &trials, std::vector<float> &start)
{
    start.clear();
    switch (context.settings.selector) {
    case FilterSelector::Saliency:
        return bySaliency(context);
    case FilterSelector::Random:
        return bySearch(context, false, trials, start);
    case FilterSelector::Reinforce:
        return bySearch(context, true, trials, start);
    }
    return Error{"unknown filter selector"};
}

} // namespace paramlock::nnsplitter
