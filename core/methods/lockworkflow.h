#pragma once

// The one lock workflow every front end runs: check what the user brought, draw the method's training sample,
// evaluate, lock, evaluate. The CLI's lock, demo and report, the GUI's lock job and the analyses share it.

#include "dataset.h"
#include "expected.h"
#include "lockresult.h"
#include "model.h"
#include "progress.h"
#include "protectionmethod.h"

#include <cstdint>
#include <string>
#include <vector>

namespace paramlock {

/** How the workflow runs, besides the method's own parameters. */
struct WorkflowOptions
{
    int64_t evalLimit = 0; ///< evaluate on the first N test images (0: all)
    int previewCount = 0; ///< keep the predictions of the first N test images, before and after
    /** Lock the model's own weights instead of a copy (callers that read the model for this alone). */
    bool inPlace = false;
    /**
     * Lock a model that scores no better than 1.5 x random guess on the test set (refused by default: such a model
     * is untrained, or fed the wrong dataset or normalisation).
     */
    bool allowUntrained = false;
    /** How the front end allows it, for the refusal's message (e.g. "pass --allow-untrained"). */
    std::string allowUntrainedHint = "allow an untrained model explicitly";
};

/** What a lock run produced; a registered metatype in the UI, shared read-only with the views. */
struct LockOutcome
{
    std::string method; ///< the method's id
    LockRequest request; ///< the parameter values and the seed, as asked for
    LockResult result;
    /** The training images the lock used (AdvParams: the encryption set), as positions in the training split. */
    std::vector<int64_t> sampleIndices;
    double accuracyBefore = 0.0;
    double accuracyAfter = 0.0;
    int64_t testSamples = 0;
    double randomGuess = 0.0; ///< 1 / classes
    std::vector<int32_t> predictionsBefore; ///< for the first test images
    std::vector<int32_t> predictionsAfter;
    /**
     * Empty when the lock met its method's target and the locked model scores at most kUselessFactor x random guess;
     * otherwise why it did not, and what to change. A front end says so loudly.
     */
    std::string weakness;
    bool weak() const { return !weakness.empty(); }
};

/** A locked model may score at most this many times random guess (1.2 x 10% = 12% on ten classes). */
constexpr double kUselessFactor = 1.2;
/** A model to lock must score more than this many times random guess before the lock. */
constexpr double kTrainedFactor = 1.5;

/**
 * Checks the model and the data (finite weights, a forward pass that runs, a layer set the method can use, a model
 * that is better than random guess), then draws the method's sample from `train`, evaluates on `test`, locks and
 * evaluates again. Every refusal is one sentence and changes nothing; cancelling leaves `model` untouched (in place:
 * every weight put back).
 */
Expected<LockOutcome> runLockWorkflow(Model &model, const Dataset &train, const Dataset &test,
    const ProtectionMethod &method, const LockRequest &request, const WorkflowOptions &options, Progress &progress);

/** The training images a finished lock used, from the training split it was drawn from. */
Dataset lockSample(const LockOutcome &outcome, const Dataset &train);

/** The demo's rules, in one place: what it locks, on what, with which method. */
struct DemoOptions
{
    std::string modelPath; ///< the shipped LeNet-5 (empty when it cannot be found)
    std::string dataset = "fashion-mnist"; ///< the Debian package's copy
    std::string method; ///< the default method, at its defaults
    /** A weak lock is shown, not refused: the paper mode's weakness on LeNet-5 is one of the demo's findings. */
    bool acceptWeak = true;
};
DemoOptions demoOptions();

} // namespace paramlock
