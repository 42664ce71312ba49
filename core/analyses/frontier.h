#pragma once

// The frontier: every lock ParamLock offers, made on one model, placed side by side on what a model owner weighs:
// how much it changes (weights, key size), how much the locked model is still worth to a thief with k labelled images
// (the advantage analysis at one k), and how visible it is to a reviewer who compares the weights with what trained
// weights look like (the stealth score). The picture a model owner chooses a lock from.

#include "advantage.h"
#include "dataset.h"
#include "expected.h"
#include "model.h"
#include "progress.h"
#include "protectionmethod.h"

#include <cstdint>
#include <string>
#include <vector>

namespace paramlock {

/** What a reviewer can see of a lock, comparing the locked weights with the original's (all in units of 1). */
struct StealthMeasures
{
    /** The largest change of a layer's mean, in units of the layer's original standard deviation. */
    double meanShift = 0.0;
    /** The largest relative change of a layer's standard deviation. */
    double stdShift = 0.0;
    /** The farthest a locked weight lies outside its layer's original [min, max], in units of that range. */
    double rangeExcess = 0.0;
    /**
     * The structural check: trained conv kernels are smooth, so neighbouring taps of a kernel are correlated. The
     * largest drop of that correlation (Pearson, horizontal and vertical neighbours pooled, per conv layer with
     * kernels of at least 2 x 2) from the original to the locked model; 0 when no conv layer has such kernels.
     */
    double correlationDrop = 0.0;
    double correlationBefore = 0.0; ///< the neighbour correlation of the layer with the largest drop, before
    double correlationAfter = 0.0; ///< and after
    std::string worstLayer; ///< the layer that gives the score

    /**
     * The stealth score: the largest of the four (0: nothing a reviewer sees in these checks; about 0.1 and above:
     * a change a reviewer who looks for it notices; docs/findings.md).
     */
    double score() const;
};

/** Compares every conv/FC weight of `locked` with `original` (same architecture). */
Expected<StealthMeasures> stealthMeasures(const Model &original, const Model &locked);

/** One lock to compare: a method, its setting and how it is named on the chart. */
struct FrontierCandidate
{
    std::string method; ///< the method's id
    std::string label; ///< e.g. "AdvParams, strong mode"
    std::string setting; ///< the label without the method's name: "strong mode"
    LockRequest request;
};

/**
 * Adds the method's repair (ProtectionMethod::repair, scored on `test`) to the advantage analysis's options, where the
 * method has one and the options have none.
 */
void addMethodRepair(AdvantageOptions &options, const ProtectionMethod &method, const Dataset &test, int64_t evalLimit);

/** Every Lock method's frontier settings for `model` (ProtectionMethod::frontierRequests), in registry order. */
std::vector<FrontierCandidate> frontierCandidates(const Model &model);

struct FrontierOptions
{
    /** The candidates; empty: frontierCandidates() of the model. */
    std::vector<FrontierCandidate> candidates;
    /** k: the thief's labelled training images the advantage is measured at. */
    int64_t size = 1000;
    /** The sweep (its sizes are replaced by {0, size}; seed and evalLimit come from below). */
    AdvantageOptions advantage;
    uint64_t seed = 0; ///< the locks' seeds and the thief's
    int64_t evalLimit = 0; ///< score on the first N test images (0: all)
};

/** One lock on the frontier. */
struct FrontierPoint
{
    FrontierCandidate candidate;
    std::string methodName;
    int64_t weightsChanged = 0;
    int64_t parameterCount = 0; ///< conv/FC weights of the model
    int64_t keyBytes = 0; ///< the key file as unsealed JSON
    double lockedAccuracy = 0.0; ///< without data (k = 0)
    std::string weakness; ///< why the lock fell short of its target, or empty
    CurvePoint attacker; ///< A_att at k
    double ratio = 0.0; ///< R at k
    double advantage = 0.0; ///< at k (NaN when A_scr >= the original's accuracy)
    StealthMeasures stealth;
    double lockSeconds = 0.0;
};

struct FrontierResult
{
    std::vector<FrontierPoint> points;
    int64_t size = 0; ///< k
    CurvePoint scratch; ///< A_scr at k, the same for every lock
    CurvePoint original; ///< A_orig at k (accuracy -1 when not measured)
    double victimAccuracy = 0.0;
    double randomGuess = 0.0;
    int64_t testImages = 0;
    std::string grid; ///< the sweep, in words
    int runs = 0; ///< training runs made, all locks together
    double seconds = 0.0;
};

/**
 * Locks a copy of `original` with every candidate (seeded by options.seed; `original` is untouched), measures its
 * stealth, and runs the advantage analysis at k = options.size on each, training the scratch and original curves once
 * for all. A candidate that cannot lock this model is an error that names it. Cancellable through `progress`.
 */
Expected<FrontierResult> frontierAnalysis(const Model &original, const Dataset &train, const Dataset &test,
    const FrontierOptions &options, Progress &progress);

/** What the frontier says in plain words: which locks leave a thief nothing, and what each costs in stealth. */
std::string frontierSummary(const FrontierResult &result);

} // namespace paramlock
