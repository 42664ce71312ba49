#pragma once

// Attacks on any locked model, whatever method locked it: the attacker has the locked file and maybe some data.

#include "dataset.h"
#include "expected.h"
#include "model.h"
#include "progress.h"

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

} // namespace paramlock
