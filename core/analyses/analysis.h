#pragma once

#include "advparams.h"
#include "dataset.h"
#include "expected.h"
#include "model.h"
#include "progress.h"

#include <string>
#include <vector>

namespace paramlock {

/** One line of an analysis chart. */
struct AnalysisSeries
{
    std::string name;
    std::vector<double> x;
    std::vector<double> y;
};

/**
 * The outcome of one experiment or attack, in a form every front end shows
 * the same way: a chart (series over x, or one bar per category), a table,
 * and a sentence that says what was done. Accuracies are fractions in [0, 1].
 */
struct Analysis
{
    std::string kind; ///< one of analysisKinds()
    std::string title; ///< e.g. "Fine-tuning attack (the paper's Table III)"
    std::string explanation; ///< for a reader who never saw the paper
    std::string xLabel;
    std::string yLabel;
    std::vector<std::string> categories; ///< x tick labels when x is a layer, not a number
    std::vector<AnalysisSeries> series;
    double reference = -1.0; ///< a horizontal line (random guess), or -1
    std::string referenceLabel;
    std::vector<std::string> columns;
    std::vector<std::vector<std::string>> rows;
    double seconds = 0.0;
};

/** What an analysis runs on: the original model, the lock made from it, and the data. */
struct AnalysisContext
{
    const Model *original = nullptr;
    const LockResult *lock = nullptr; ///< the locked model and its key (the key only scores hits)
    const Dataset *encryptionSet = nullptr; ///< for the sweeps
    const Dataset *test = nullptr;
    LockOptions options; ///< the settings the lock was made with
    int64_t evalLimit = 0; ///< evaluate on the first N test images (0: all)
    double attackerFraction = 0.1; ///< share of the test set the attacker holds (the paper: 10%)
    int fineTuneEpochs = 10;
    uint64_t seed = 0;
};

/** "finetune", "prune", "clip", "adaptive", "detect", "t-loss", "layers", "n-e". */
std::vector<std::string> analysisKinds();
/** A short human name for a kind, e.g. "Fine-tuning attack". */
std::string analysisName(const std::string &kind);

/** Runs one analysis; cancellable through `progress`. */
Expected<Analysis> runAnalysis(const std::string &kind, const AnalysisContext &context, Progress &progress);

/** Formats a fraction as a percentage with two decimals ("91.07%"). */
std::string percentText(double fraction);

} // namespace paramlock
