#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace paramlock {

/**
 * The batch size of a forward-only pass (evaluation, classification, the attacks' and analyses' scoring): the one
 * that is fastest for the model on this machine, found while the pass runs, so that finding it costs no extra
 * forward pass.
 *
 * The cost of an image is not the same at every batch size: small batches pay the per-call overhead of every
 * layer, large ones fall out of the cache (a DenseNet's concatenations at batch 250 run 10-15x slower per image
 * than at batch 50). With no size requested, the pass climbs a ladder (8, 16, 32, ..., 256): two batches at each
 * size (three at the first, whose first calls carry one-time costs such as TorchScript's profiling), each size
 * scored by its faster batch's time per image. It climbs while the time per image falls and stops at the top or
 * once a size is clearly slower (by more than a quarter) than the best so far, then runs the rest of the pass at the
 * best. The choice is cached for the process under the caller's key (the architecture and the thread count: weights
 * do not change the cost), so that the next pass over the same architecture starts at the best size directly.
 */
class ForwardBatches
{
public:
    /** `requested` > 0 fixes the size; 0 chooses it under `key` (from the cache, or by probing). */
    ForwardBatches(std::string key, int requested);

    /** The size of the next batch when `remaining` images are left. */
    int64_t next(int64_t remaining) const;
    /** Reports how long a batch of `size` images took (the whole step: input, forward, scoring). */
    void record(int64_t size, double seconds);

    /** The size chosen: the fixed or cached one, or the best found once the probe ended; 0 while probing. */
    int chosen() const { return m_chosen; }
    /** Whether the size was measured by this pass (false: fixed, or taken from the cache). */
    bool probed() const { return m_probed; }

    /** The cached choice for `key`, 0 when none. */
    static int cached(const std::string &key);
    /** Empties the cache (tests). */
    static void forget();

    static const std::vector<int> &ladder();

private:
    void settle(int size);

    std::string m_key;
    int m_chosen = 0;
    bool m_probed = false;
    size_t m_rung = 0;
    int m_samples = 0;
    double m_fastest = 0.0; ///< the fastest batch at the current rung, seconds
    int m_bestSize = 0;
    double m_bestPerImage = 0.0;
};

} // namespace paramlock
