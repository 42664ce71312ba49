#pragma once

// The paper's experiments, for any model: accuracy against T_loss (Fig. 5), per locked layer (Fig. 6) and against
// the number of encrypted weights (Fig. 7).

#include "advparams.h"
#include "dataset.h"
#include "expected.h"
#include "model.h"
#include "progress.h"

#include <string>
#include <vector>

namespace paramlock {

struct SweepPoint
{
    double x = 0.0; ///< the swept value (T_loss, n_e, or the layer's position)
    std::string label; ///< the layer's name for the per-layer sweep
    double accuracy = 0.0; ///< test accuracy of the locked model
    int64_t encrypted = 0; ///< distinct weights changed at this point
};

struct Sweep
{
    std::string kind; ///< "t-loss" (Fig. 5), "layers" (Fig. 6), "n-e" (Fig. 7)
    std::string xLabel;
    std::vector<SweepPoint> points;
    double seconds = 0.0;
};

/**
 * Fig. 5: test accuracy of the locked model for each loss threshold. One lock
 * runs with the largest threshold; the model for a smaller one is its prefix
 * (Algorithm 1 stops at the first iteration whose loss exceeds T_loss), so
 * nothing is locked twice. Paper mode only.
 */
Expected<Sweep> lossThresholdSweep(const Model &model, const Dataset &encryptionSet, const Dataset &test,
    AdvParamsOptions options, const std::vector<double> &thresholds, Progress &progress, int64_t evalLimit = 0);

/** Fig. 7: accuracy against the number of encrypted weights, from one lock replayed step by step. */
Expected<Sweep> encryptedCountSweep(const Model &model, const Dataset &encryptionSet, const Dataset &test,
    const AdvParamsOptions &options, const std::vector<int64_t> &counts, Progress &progress, int64_t evalLimit = 0);

/** Fig. 6: accuracy when only one layer is locked, for every conv/FC layer. */
Expected<Sweep> perLayerSweep(const Model &model, const Dataset &encryptionSet, const Dataset &test,
    AdvParamsOptions options, Progress &progress, int64_t evalLimit = 0);

} // namespace paramlock
