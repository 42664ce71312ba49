#pragma once

// The per-iteration searches of the lock (and of the attacks that imitate it) over one layer's weights,
// as single fused passes over raw float arrays: no mask tensor, no temporaries the size of the layer, and
// split over the intra-op threads. Results do not depend on the thread count.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace paramlock {

/** Which weights of a layer may still be picked. */
struct Eligibility
{
    const float *values = nullptr; ///< the layer's current weights
    int64_t count = 0;
    /** Positions that may not be picked again, sorted ascending. */
    const std::vector<int64_t> *excluded = nullptr;
    /** Only values inside [lower, upper] (compared in float) are eligible; off: any value. */
    bool bounded = false;
    float lower = 0.0f;
    float upper = 0.0f;

    /** Negative zeros are never eligible: a subtraction cannot restore them bit for bit. */
    bool admits(float v) const
    {
        if (v == 0.0f && std::signbit(v))
            return false;
        return !bounded || (v >= lower && v <= upper);
    }
    /** Whether position i may be picked (a search over the excluded positions: for the few candidates). */
    bool admitsAt(int64_t i) const
    {
        if (excluded && std::binary_search(excluded->begin(), excluded->end(), i))
            return false;
        return admits(values[i]);
    }
};

/** Adds a position to a sorted exclusion list (once). */
inline void excludePosition(std::vector<int64_t> &excluded, int64_t index)
{
    const auto at = std::lower_bound(excluded.begin(), excluded.end(), index);
    if (at == excluded.end() || *at != index)
        excluded.insert(at, index);
}

/** The eligible weight with the largest |g| (the first on ties) and its gradient; index -1 if none is eligible. */
struct Steepest
{
    int64_t index = -1;
    float gradient = 0.0f;
};
Steepest steepestEligible(const float *gradient, const Eligibility &eligibility);

/** The `k` eligible weights with the largest |g|, steepest first (lower index first on ties); fewer if fewer are
 * eligible. */
std::vector<int64_t> steepestEligibleK(const float *gradient, const Eligibility &eligibility, int64_t k);

/** The best eligible partner of one candidate and the score of swapping the two. */
struct Partner
{
    int64_t index = -1;
    float score = 0.0f;
};

/**
 * For every candidate i, the eligible j with the largest first-order objective change of exchanging w_i and
 * w_j: sign x (g_i - g_j)(w_j - w_i), evaluated in float (the first j on ties). sign +1 raises the loss (the
 * lock), -1 lowers it (an attacker undoing swaps). One pass over the layer for all candidates.
 */
std::vector<Partner> bestSwapPartners(
    const float *gradient, const Eligibility &eligibility, const std::vector<int64_t> &candidates, float sign = 1.0f);

/** One layer of a joint swap search: its gradient (nullptr: skipped) and which weights may move (bounded). */
struct SwapLayer
{
    const float *gradient = nullptr;
    Eligibility eligibility;
};

/** An exchange of the values of two weights of one layer. */
struct Swap
{
    double gain = 0.0; ///< first-order objective change, sign x (g_i - g_j)(w_j - w_i)
    size_t layer = 0; ///< index into the layers searched
    int64_t first = 0; ///< i, one of the layer's steepest
    int64_t second = 0; ///< j, its best partner
};

/** Swaps in a total order: larger gain first, then layer and positions (whatever order they were found in). */
inline bool betterSwap(const Swap &a, const Swap &b)
{
    if (a.gain != b.gain)
        return a.gain > b.gain;
    if (a.layer != b.layer)
        return a.layer < b.layer;
    return std::pair(a.first, a.second) < std::pair(b.first, b.second);
}

/**
 * The strong lock's step: the `pool` best distinct swaps with a positive gain over all layers, in betterSwap
 * order. In each layer the `pool` steepest eligible weights are the candidates, each with its best partner
 * (bestSwapPartners). That partner pass is most of an iteration's work beyond the forward and backward passes
 * on large layers, so it is skipped where it cannot matter: in a bounded layer (every layer of the strong lock),
 * swapping w_i with an eligible w_j gains at most (|g_i| + G)(upper - lower), G being the steepest eligible |g|,
 * and a candidate whose bound is below the pool-th best gain found so far cannot enter the pool. Layers are
 * searched in decreasing order of their bound. The result is exactly that of searching every candidate;
 * `searched`, if given, receives how many candidates were.
 */
std::vector<Swap> swapSearch(const std::vector<SwapLayer> &layers, int64_t pool, int64_t *searched = nullptr);

} // namespace paramlock
