#include "weightsearch.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <limits>

namespace paramlock {

namespace {

/** Below this many weights a layer is searched by one thread: splitting costs more than it saves. */
constexpr int64_t kGrain = 1 << 15;
/** Blocks stay below this size, so that a position inside a block fits 32 bits (the SIMD lanes). */
constexpr int64_t kMaxBlock = int64_t(1) << 30;

// Four candidates at a time in SSE registers (the x86-64 baseline; GCC's vector extensions elsewhere).
typedef float Floats4 __attribute__((vector_size(16)));
typedef int32_t Ints4 __attribute__((vector_size(16)));

/**
 * Runs `visit(j)` for every eligible j in [begin, end): the excluded positions are walked alongside, so the
 * check costs a comparison, not a lookup.
 */
/** Calls `run(from, to)` for the runs of [begin, end) between excluded positions. */
template<typename Run> void forEachRun(const Eligibility &e, int64_t begin, int64_t end, Run &&run)
{
    static const std::vector<int64_t> none;
    const std::vector<int64_t> &excluded = e.excluded ? *e.excluded : none;
    auto next = std::lower_bound(excluded.begin(), excluded.end(), begin);
    for (int64_t j = begin; j < end;) {
        const int64_t stop = next != excluded.end() && *next < end ? *next : end;
        if (stop > j)
            run(j, stop);
        j = stop + 1;
        if (stop < end)
            ++next;
    }
}

/** Runs `visit(j)` for every eligible j in [begin, end), in order. */
template<typename Visit> void forEachEligible(const Eligibility &e, int64_t begin, int64_t end, Visit &&visit)
{
    const Eligibility local = e; // in registers, whatever `visit` writes
    forEachRun(e, begin, end, [&](int64_t from, int64_t to) {
        for (int64_t j = from; j < to; ++j)
            if (local.admits(local.values[j]))
                visit(j);
    });
}

/**
 * Splits [0, count) into blocks, computes one partial result per block on the intra-op threads and returns
 * them in block order. The callers merge with a total order, so the answer does not depend on the split.
 */
template<typename Partial, typename Search> std::vector<Partial> perBlock(int64_t count, Search &&search)
{
    const int64_t threads = std::max(1, at::get_num_threads());
    const int64_t blocks =
        std::max(std::clamp<int64_t>(count / kGrain, 1, 4 * threads), (count + kMaxBlock - 1) / kMaxBlock);
    std::vector<Partial> partials(static_cast<size_t>(blocks));
    const int64_t size = (count + blocks - 1) / blocks;
    at::parallel_for(0, blocks, 1, [&](int64_t first, int64_t last) {
        for (int64_t b = first; b < last; ++b)
            partials[size_t(b)] = search(b * size, std::min(count, (b + 1) * size));
    });
    return partials;
}

/** a before b in "steepest first, lower index first on ties". */
bool steeper(float a, int64_t ia, float b, int64_t ib)
{
    return a > b || (a == b && ia < ib);
}

} // namespace

Steepest steepestEligible(const float *gradient, const Eligibility &eligibility)
{
    const std::vector<int64_t> top = steepestEligibleK(gradient, eligibility, 1);
    if (top.empty())
        return {};
    return {top.front(), gradient[top.front()]};
}

std::vector<int64_t> steepestEligibleK(const float *gradient, const Eligibility &eligibility, int64_t k)
{
    using Entry = std::pair<float, int64_t>; // |g|, index
    const auto before = [](const Entry &a, const Entry &b) { return steeper(a.first, a.second, b.first, b.second); };
    const size_t keep = size_t(std::max<int64_t>(0, k));
    const auto partials = perBlock<std::vector<Entry>>(eligibility.count, [&](int64_t begin, int64_t end) {
        std::vector<Entry> top; // sorted, steepest first, at most `keep`
        top.reserve(keep + 1);
        // Once the list is full, a weight must be steeper than its last entry (positions only grow within a
        // block, so a tie loses); NaN never enters. Eligibility is checked only for the few that would.
        float bar = keep == 0 ? std::numeric_limits<float>::infinity() : -1.0f;
        for (int64_t j = begin; j < end; ++j) {
            const float m = std::abs(gradient[j]);
            if (!(m > bar) || !eligibility.admitsAt(j))
                continue;
            const Entry e{m, j};
            top.insert(std::upper_bound(top.begin(), top.end(), e, before), e);
            if (top.size() > keep)
                top.pop_back();
            if (top.size() == keep)
                bar = top.back().first;
        }
        return top;
    });
    std::vector<Entry> all;
    for (const auto &p : partials)
        all.insert(all.end(), p.begin(), p.end());
    std::sort(all.begin(), all.end(), before);
    all.resize(std::min(all.size(), keep));
    std::vector<int64_t> indices;
    for (const Entry &e : all)
        indices.push_back(e.second);
    return indices;
}

namespace {

/**
 * The partner search over one block for `Groups` groups of four candidates (0: `groups` of them, held in
 * memory). Writes each lane's best score and its position relative to `begin`; false if nothing is eligible.
 */
template<size_t Groups>
bool partnerBlock(const float *gradient, const Eligibility &eligibility, int64_t begin, int64_t end, float sign,
    const Floats4 *gi4, const Floats4 *wi4, Floats4 *bestOut, Ints4 *atOut, size_t groups = Groups)
{
    constexpr size_t kSlots = Groups == 0 ? 1 : Groups;
    const size_t n = Groups == 0 ? groups : Groups;
    const float lowest = -std::numeric_limits<float>::infinity();
    Floats4 bestLocal[kSlots];
    Ints4 atLocal[kSlots];
    Floats4 *best = Groups == 0 ? bestOut : bestLocal;
    Ints4 *at = Groups == 0 ? atOut : atLocal;
    for (size_t q = 0; q < n; ++q) {
        best[q] = Floats4{lowest, lowest, lowest, lowest};
        at[q] = Ints4{-1, -1, -1, -1};
    }
    bool any = false;
    const float *w = eligibility.values;
    forEachEligible(eligibility, begin, end, [&](int64_t j) {
        const int32_t offset = int32_t(j - begin);
        if (!any) { // the first eligible weight is where an all-equal maximum lands
            any = true;
            for (size_t q = 0; q < n; ++q)
                at[q] = Ints4{offset, offset, offset, offset};
        }
        const float gj = gradient[j];
        const float wj = w[j];
        const Ints4 here{offset, offset, offset, offset};
        for (size_t q = 0; q < n; ++q) {
            // The same float operations, in the same order, as sign * ((g_i - g_j) * (w_j - w_i)).
            const Floats4 score = sign * ((gi4[q] - gj) * (wj - wi4[q]));
            const Ints4 better = score > best[q];
            best[q] = better ? score : best[q];
            at[q] = better ? here : at[q];
        }
    });
    if (Groups != 0)
        for (size_t q = 0; q < n; ++q) {
            bestOut[q] = best[q];
            atOut[q] = at[q];
        }
    return any;
}

} // namespace

std::vector<Partner> bestSwapPartners(
    const float *gradient, const Eligibility &eligibility, const std::vector<int64_t> &candidates, float sign)
{
    const size_t k = candidates.size();
    if (k == 0)
        return {};
    std::vector<float> gi(k), wi(k);
    for (size_t c = 0; c < k; ++c) {
        gi[c] = gradient[candidates[c]];
        wi[c] = eligibility.values[candidates[c]];
    }
    // Candidates in groups of four lanes; padding lanes score 0 and are dropped.
    const size_t groups = (k + 3) / 4;
    std::vector<Floats4> gi4(groups), wi4(groups);
    for (size_t c = 0; c < groups * 4; ++c) {
        gi4[c / 4][c % 4] = c < k ? gi[c] : 0.0f;
        wi4[c / 4][c % 4] = c < k ? wi[c] : 0.0f;
    }
    const auto partials = perBlock<std::vector<Partner>>(eligibility.count, [&](int64_t begin, int64_t end) {
        std::vector<Floats4> best(groups);
        std::vector<Ints4> at(groups);
        bool any = false;
        // Up to 16 candidates (the default pool is 8) with the running maxima in registers.
        switch (groups) {
        case 1:
            any = partnerBlock<1>(
                gradient, eligibility, begin, end, sign, gi4.data(), wi4.data(), best.data(), at.data());
            break;
        case 2:
            any = partnerBlock<2>(
                gradient, eligibility, begin, end, sign, gi4.data(), wi4.data(), best.data(), at.data());
            break;
        case 3:
            any = partnerBlock<3>(
                gradient, eligibility, begin, end, sign, gi4.data(), wi4.data(), best.data(), at.data());
            break;
        case 4:
            any = partnerBlock<4>(
                gradient, eligibility, begin, end, sign, gi4.data(), wi4.data(), best.data(), at.data());
            break;
        default:
            any = partnerBlock<0>(
                gradient, eligibility, begin, end, sign, gi4.data(), wi4.data(), best.data(), at.data(), groups);
        }
        std::vector<Partner> out(k);
        for (size_t c = 0; c < k; ++c)
            out[c] = {any ? begin + at[c / 4][c % 4] : -1, best[c / 4][c % 4]};
        return out;
    });
    std::vector<Partner> result(k);
    for (const auto &block : partials)
        for (size_t c = 0; c < k && c < block.size(); ++c) {
            const Partner &p = block[c];
            Partner &r = result[c];
            if (p.index >= 0 && (r.index < 0 || p.score > r.score || (p.score == r.score && p.index < r.index)))
                r = p;
        }
    return result;
}

std::vector<Swap> swapSearch(const std::vector<SwapLayer> &layers, int64_t pool, int64_t *searched)
{
    struct Candidates
    {
        size_t layer = 0;
        std::vector<int64_t> firsts;
        double steepest = 0.0; ///< G
        bool bounded = false; ///< unbounded layers are never pruned
        double span = 0.0; ///< upper - lower
    };
    std::vector<Candidates> found;
    for (size_t li = 0; li < layers.size(); ++li) {
        const SwapLayer &l = layers[li];
        if (!l.gradient)
            continue;
        Candidates c;
        c.layer = li;
        c.firsts = steepestEligibleK(l.gradient, l.eligibility, pool);
        if (c.firsts.empty())
            continue;
        for (int64_t i : c.firsts)
            c.steepest = std::max(c.steepest, double(std::fabs(l.gradient[i])));
        c.bounded = l.eligibility.bounded;
        c.span = double(l.eligibility.upper) - double(l.eligibility.lower);
        found.push_back(std::move(c));
    }
    // The scores are float products: a margin of a few units in their last place, and more.
    constexpr double kSlack = 1.001;
    const auto bound = [](const Candidates &c, double g) {
        return c.bounded ? (g + c.steepest) * c.span * kSlack : std::numeric_limits<double>::infinity();
    };
    std::sort(found.begin(), found.end(),
        [&](const Candidates &a, const Candidates &b) { return bound(a, a.steepest) > bound(b, b.steepest); });

    std::vector<Swap> best; // distinct pairs, in betterSwap order, at most `pool`
    const auto threshold = [&] {
        return int64_t(best.size()) < pool ? -std::numeric_limits<double>::infinity() : best.back().gain;
    };
    int64_t count = 0;
    for (const Candidates &c : found) {
        const SwapLayer &l = layers[c.layer];
        std::vector<int64_t> worth;
        for (int64_t i : c.firsts)
            if (bound(c, std::fabs(l.gradient[i])) >= threshold())
                worth.push_back(i);
        count += int64_t(worth.size());
        if (worth.empty())
            continue;
        const std::vector<Partner> partners = bestSwapPartners(l.gradient, l.eligibility, worth);
        for (size_t k = 0; k < partners.size(); ++k) {
            const Swap swap{double(partners[k].score), c.layer, worth[k], partners[k].index};
            if (!(swap.gain > 0.0) || swap.second < 0 || swap.second == swap.first)
                continue;
            // The same pair can be found from both ends (with the same gain): one entry, the first in order.
            const auto same = std::find_if(best.begin(), best.end(), [&](const Swap &d) {
                return d.layer == swap.layer && std::minmax(d.first, d.second) == std::minmax(swap.first, swap.second);
            });
            if (same != best.end()) {
                if (!betterSwap(swap, *same))
                    continue;
                best.erase(same);
            }
            best.insert(std::upper_bound(best.begin(), best.end(), swap, betterSwap), swap);
            if (int64_t(best.size()) > pool)
                best.pop_back();
        }
    }
    if (searched)
        *searched = count;
    return best;
}

} // namespace paramlock
