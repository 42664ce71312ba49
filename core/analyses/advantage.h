#pragma once

// How much is a locked model worth to a thief who has some labelled data? The attacker-advantage yardstick of
// METHODS.md §5: for each amount k of labelled training images, the best accuracy a thief reaches from the locked
// model (A_att), from the same architecture trained from scratch (A_scr) and from the unlocked original (A_orig,
// the ceiling), with R = A_att / A_scr and advantage = (A_att - A_scr) / (A_victim - A_scr).

#include "dataset.h"
#include "expected.h"
#include "model.h"
#include "progress.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace paramlock {

/** One training setting of the attacker's sweep. */
struct TrainSetting
{
    std::string optimizer; ///< "sgd" (momentum 0.9) or "adam"
    double learningRate = 0.0;
    std::string text() const; ///< "SGD 0.01", "Adam 0.001"
};

struct AdvantageResult;

/** The sweep every curve is trained with. */
struct AdvantageOptions
{
    std::vector<int64_t> sizes = {0, 100, 300, 1000, 3000}; ///< k: the thief's labelled training images
    /**
     * "halving" (the default): every setting of the grid at `searchSize` trained to its first checkpoint, then the
     * best third (rounded up) on to each next checkpoint (successive halving with Hyperband's reduction factor 3: 6
     * settings cost 2.5 runs at 4 checkpoints), and each curve's best setting there at the other sizes; "quick": every
     * setting trained to the end at `searchSize`, then the same; "full": every setting at every size (what the smaller
     * grids cost the attacker is measured against it in docs/findings.md).
     */
    std::string grid = "halving";
    int64_t searchSize = 1000;
    std::vector<TrainSetting> settings = defaultSettings();
    /**
     * Optimiser steps per run (epochs = steps x batch / k, between minEpochs and maxEpochs). The floor of 15 epochs
     * is measured: at k = 3,000 the 9 epochs of 400 steps left the DenseNet's scratch network below its own k = 1,000
     * point, overstating what the lock gives a thief (docs/findings.md, "An hour on the DenseNet").
     */
    int64_t steps = 400;
    int batchSize = 64;
    int minEpochs = 15;
    int maxEpochs = 100;
    /** Each run is scored at this many evenly spaced epochs (and before training); the best counts. */
    int checkpoints = 4;
    uint64_t seed = 0; ///< the thief's draw of images, the scratch initialisation and the batch order
    int64_t evalLimit = 0; ///< score on the first N test images (0: all)
    /**
     * Checkpoints and settings are compared on the first N scored test images; each curve's winner at each k is then
     * scored on all of them (0: compare on all). Scoring every checkpoint of every run on 10,000 images was a third
     * of a DenseNet analysis.
     */
    int64_t selectionImages = 1000;
    /** Scoring batch; 0: the fastest for the architecture here, measured on the first scoring (ForwardBatches). */
    int evalBatch = 0;
    bool includeOriginal = true; ///< A_orig, the ceiling (one more curve)
    /**
     * A method's own repair (e.g. AdvParams' gradient-guided adaptive attack), tried beside the fine-tuning sweep for
     * A_att: given the locked model, the thief's images and a budget of single-image forward-backward passes per
     * variant (one training run's: steps x batch), the accuracy it reaches on the test set. Empty: none.
     */
    std::function<Expected<double>(
        const Model &locked, const Dataset &attackerImages, int64_t passBudget, Progress &progress)>
        repair;
    std::string repairName;
    /**
     * The repair is given the first min(k, repairImages) of the thief's images (a gradient over 300 images points
     * where one over 3,000 does; the paper's adaptive attack uses its encryption set's 300); its result there is
     * reused for every larger k. 0: all k.
     */
    int64_t repairImages = 300;
    /**
     * The scratch and original curves, already measured on the same model, data and options for another lock of it
     * (the frontier compares many): reused instead of trained again, so only A_att is trained. Every k asked must be
     * among its rows.
     */
    std::shared_ptr<const AdvantageResult> baseline;

    /** SGD (momentum 0.9) at 0.1, 0.01, 0.001 and Adam at 0.01, 0.001, 0.0001. */
    static std::vector<TrainSetting> defaultSettings();
    /** The full grid: SGD 0.1 ... 0.001 and Adam 0.01 ... 0.0001, each in steps of about 3x. */
    static std::vector<TrainSetting> fineSettings();
};

/** One curve's best at one k. */
struct CurvePoint
{
    double accuracy = 0.0;
    std::string setting; ///< the setting that reached it (or "no training", or the repair's name)
    int epoch = 0; ///< the checkpoint that reached it
};

struct AdvantageRow
{
    int64_t size = 0; ///< k
    CurvePoint attacker; ///< A_att: from the locked model
    CurvePoint scratch; ///< A_scr: from random initialisation
    CurvePoint original; ///< A_orig: from the unlocked original (accuracy -1 when not measured)
    double ratio = 0.0; ///< R = A_att / A_scr
    double advantage = 0.0; ///< (A_att - A_scr) / (A_victim - A_scr); NaN when A_scr >= A_victim
};

struct AdvantageResult
{
    std::vector<AdvantageRow> rows;
    double victimAccuracy = 0.0; ///< the unlocked original, untrained further
    double lockedAccuracy = 0.0;
    double randomGuess = 0.0;
    int64_t testImages = 0;
    int64_t selectionImages = 0; ///< the test images that chose the checkpoints and settings (a prefix of them)
    std::string grid; ///< what was swept, in words
    int runs = 0; ///< training runs made (a run stopped by successive halving counts)
    int64_t trainedImages = 0; ///< training images passed forward and backward, over every run (the sweep's work)
    double seconds = 0.0;
};

/**
 * Runs the analysis. `original` is the victim (the unlocked model), `locked` what the thief holds; the thief's
 * images are the first k of one seeded shuffle of `train` (so the sets are nested), the score is on `test`.
 * Reproducible by `options.seed`; cancellable through `progress` (then nothing is returned).
 */
Expected<AdvantageResult> advantageAnalysis(const Model &original, const Model &locked, const Dataset &train,
    const Dataset &test, const AdvantageOptions &options, Progress &progress);

/**
 * The protection level in plain words, from the measurements: e.g. "Without data the locked model is useless (9.8%).
 * With 1,000 labelled images a thief gets 84.1% from it, against 72.3% training the same network from scratch: this
 * lock stops use, not retraining."
 */
std::string protectionLevel(const AdvantageResult &result);

} // namespace paramlock
