#pragma once

#include "dataset.h"
#include "expected.h"
#include "model.h"
#include "progress.h"
#include "secretkey.h"

#include <cstdint>
#include <string>
#include <vector>

namespace paramlock {

/** Accuracy at one point of an attack: after some epochs, at a pruning rate, at a clip percentile. */
struct AttackPoint
{
    double x = 0.0;
    double accuracy = 0.0;
};

struct AttackCurve
{
    std::string attack; ///< "finetune", "prune-global", "prune-layer", "clip"
    std::string xLabel; ///< what x is, with its unit
    std::vector<AttackPoint> points;
    double seconds = 0.0;
};

/** The attacker's data: a seeded split of a test set into what it trains on and what it is judged on. */
struct AttackerSplit
{
    Dataset attacker; ///< `fraction` of the test set
    Dataset holdout; ///< the rest
};
AttackerSplit splitForAttacker(const Dataset &test, double fraction, uint64_t seed);

/** Table III: the attacker fine-tunes every weight of the locked model on its own data. */
struct FineTuneOptions
{
    int epochs = 100;
    std::vector<int> reportAt = {1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
    std::string optimizer = "sgd"; ///< "sgd" (momentum 0.9) or "adam"
    double learningRate = 0.01;
    int batchSize = 64;
    uint64_t seed = 0;
};
Expected<AttackCurve> fineTuneAttack(const Model &locked, const AttackerSplit &data, const FineTuneOptions &options,
    Progress &progress, int64_t evalLimit = 0);

/** Table IV: magnitude pruning of the conv/FC weights, globally or per layer, at each rate in [0, 1]. */
Expected<AttackCurve> pruningAttack(const Model &locked, const Dataset &test, const std::vector<double> &rates,
    bool global, Progress &progress, int64_t evalLimit = 0);

/** NNSplitter's norm clipping: each layer's weights clipped to its [p, 100-p] percentile range. */
Expected<AttackCurve> normClipAttack(const Model &locked, const Dataset &test, const std::vector<double> &percentiles,
    Progress &progress, int64_t evalLimit = 0);

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
    double theta = 0.07;
    double alpha = 0.05;
    int iterations = 18; ///< per layer for "paper"; x layers in total for "global"
    int64_t budget = 64; ///< weights, for "swap"
};

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

/** Stealthiness: can a statistical test on the locked weights find the secret positions? */
struct LayerDetection
{
    std::string layer;
    int64_t secretCount = 0; ///< key positions in this layer
    int64_t zScoreHits = 0; ///< of them, in the layer's top-k by |z| (k = secretCount)
    int64_t filterHits = 0; ///< in the top-k by |z| against their own filter/row
    double meanChange = 0.0; ///< locked minus original
    double stdChange = 0.0;
    double std = 0.0; ///< original std, for scale
};
Expected<std::vector<LayerDetection>> detectionAnalysis(const Model &locked, const SecretKey &key);

} // namespace paramlock
