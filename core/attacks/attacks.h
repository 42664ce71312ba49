#pragma once

// Attacks on any locked model, whatever method locked it: the attacker has the locked file and maybe some data.

#include "dataset.h"
#include "expected.h"
#include "model.h"
#include "progress.h"
#include "secretkey.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace paramlock {

/** Accuracy at one point of an attack: after some epochs, at a pruning rate, at a clip percentile. */
struct AttackPoint
{
    double x = 0.0;
    double accuracy = 0.0;
    std::vector<std::pair<std::string, double>> observed; ///< what an observer measured on the attacked model
};

/**
 * Measures more on the attacked model at every point of an attack (e.g. whether a fingerprint survives), by name.
 * Runs between two steps of the attack; the model must not be changed.
 */
using AttackObserver = std::function<Expected<std::vector<std::pair<std::string, double>>>(const Model &attacked)>;

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
    Progress &progress, int64_t evalLimit = 0, const AttackObserver &observe = {});

/** Table IV: magnitude pruning of the conv/FC weights, globally or per layer, at each rate in [0, 1]. */
Expected<AttackCurve> pruningAttack(const Model &locked, const Dataset &test, const std::vector<double> &rates,
    bool global, Progress &progress, int64_t evalLimit = 0, const AttackObserver &observe = {});

/** NNSplitter's norm clipping: each layer's weights clipped to its [p, 100-p] percentile range. */
Expected<AttackCurve> normClipAttack(const Model &locked, const Dataset &test, const std::vector<double> &percentiles,
    Progress &progress, int64_t evalLimit = 0);

/** Stealthiness: can a statistical test on the locked weights find the secret positions? */
struct LayerDetection
{
    std::string layer;
    int64_t secretCount = 0; ///< secret positions in this layer (the weights the key restores)
    int64_t zScoreHits = 0; ///< of them, in the layer's top-k by |z| (k = secretCount)
    int64_t filterHits = 0; ///< in the top-k by |z| against their own filter/row
    double meanChange = 0.0; ///< locked minus original
    double stdChange = 0.0;
    double std = 0.0; ///< original std, for scale
    double maxAbsChange = 0.0; ///< the largest |locked - original| of one weight
    double range = 0.0; ///< the original layer's max - min, for scale
};
/**
 * With the key in hand (the owner's view, any Lock method): for every layer the lock changed, how many of its changed
 * weights a statistical test on the locked weights ranks first, and how far the layer's mean and std moved.
 */
Expected<std::vector<LayerDetection>> detectionAnalysis(const Model &locked, const SecretKey &key);

} // namespace paramlock
