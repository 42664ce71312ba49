#pragma once

// The attacks that only make sense against AdvParams: the paper's adaptive attack (Table V) and the search for the
// changed weights (stealth). The generic attacks (fine-tuning, pruning, clipping) are in attacks.h.

#include "advparams.h"
#include "attacks.h"

#include <cstdint>
#include <string>
#include <vector>

namespace paramlock {

/** Table V: the attacker knows the method but not the key. */
struct AdaptiveOptions
{
    /**
     * "paper": re-run Algorithm 1's selection on every conv/FC layer and subtract Eq. 3's
     * perturbation (I steps of theta x range against the gradient);
     * "global": the same steps, the weight chosen jointly over all layers each time;
     * "swap": undo ParamLock's strong mode, swapping back the pairs whose exchange lowers
     * the loss most (first order), up to `budget` weights.
     */
    std::string variant = "paper";
    double theta = AdvParamsSettings{}.theta;
    double alpha = AdvParamsSettings{}.alpha;
    int iterations = AdvParamsSettings{}.maxIterations; ///< per layer for "paper"; x layers in total for "global"
    int64_t budget = 64; ///< weights, for "swap"
    /**
     * Gradient passes over the attacker's images the variant may make (0: no bound): "paper" then takes
     * min(iterations, maxPasses / layers) steps per layer, at least one; "global" at most maxPasses steps; "swap" at
     * most maxPasses swaps.
     */
    int64_t maxPasses = 0;
};

/** The adaptive attack's variants, in the order the analysis runs them. */
std::vector<std::string> adaptiveVariants();

struct AdaptiveResult
{
    std::string variant;
    double accuracyBefore = 0.0; ///< the locked model, on the holdout
    double accuracyAfter = 0.0;
    int64_t weightsChanged = 0;
    int64_t secretHits = -1; ///< changed weights that are key positions (-1: no key given)
    int64_t secretPositions = 0;
    double seconds = 0.0;
};

/** Runs an adaptive attack on the attacker's split; `key`, if given, only scores the hits. */
Expected<AdaptiveResult> adaptiveAttack(const Model &locked, const AttackerSplit &data, const AdaptiveOptions &options,
    const SecretKey *key, Progress &progress, int64_t evalLimit = 0);

} // namespace paramlock
