#pragma once

// Every attack and experiment as one result the front ends show alike: a chart, a table and a sentence. The generic
// attacks run on any Lock method; a method adds its own analyses through the seam (ProtectionMethod::analyses()).

#include "advantage.h"
#include "attacks.h"
#include "dataset.h"
#include "expected.h"
#include "lockresult.h"
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
    /** The answer in plain words, where the analysis gives one (the advantage analysis: the protection level). */
    std::string verdict;
    double seconds = 0.0;
};

/** An analysis a front end can offer: its kind, its name, and whether a report runs it by default. */
struct AnalysisSpec
{
    std::string kind;
    std::string name;
    bool inReport = false;
};

/** What an analysis runs on: the original model, the lock made from it, and the data. */
struct AnalysisContext
{
    const Model *original = nullptr;
    const LockResult *lock = nullptr; ///< the locked model and its key (the key only scores hits)
    const Dataset *encryptionSet = nullptr; ///< the training images the lock used, for the sweeps
    const Dataset *train = nullptr; ///< the training split, where the advantage analysis draws the thief's images
    const Dataset *test = nullptr;
    int64_t evalLimit = 0; ///< evaluate on the first N test images (0: all)
    double attackerFraction = 0.1; ///< share of the test set the attacker holds (the paper: 10%)
    int fineTuneEpochs = 10;
    uint64_t seed = 0;
    /** The advantage analysis's sweep (its seed and test-image limit come from above). */
    AdvantageOptions advantage;
};

/** The analyses for locks of a method: the generic attacks, then the method's own ("": the generic ones alone). */
std::vector<AnalysisSpec> analysisSpecs(const std::string &method = {});
/** Their kinds. */
std::vector<std::string> analysisKinds(const std::string &method = {});
/** A short human name for a kind of any method, e.g. "Fine-tuning attack". */
std::string analysisName(const std::string &kind);

/** Runs one analysis of the lock's method; cancellable through `progress`. */
Expected<Analysis> runAnalysis(const std::string &kind, const AnalysisContext &context, Progress &progress);

/** The advantage analysis as a chart (accuracy against k, three curves and the original) and a table. */
Analysis advantageView(const AdvantageResult &result, Analysis base);

/** An analysis with its kind, the accuracy axis and the random-guess line set: where every analysis starts. */
Analysis emptyAnalysis(const std::string &kind, const AnalysisContext &context);
/** "10% of the test set (1000 labelled images)": the attacker's data, for explanations. */
std::string attackerShare(const AnalysisContext &context, const AttackerSplit &split);

} // namespace paramlock
