#include "lockworkflow.h"

#include "resources.h"
#include "text.h"
#include "training.h"

#include <algorithm>
#include <optional>

namespace paramlock {

namespace {

int classesOf(const Model &model, const Dataset &test)
{
    const int declared = model.metadata().classCount;
    return std::max(2, declared > 0 ? declared : test.classCount);
}

} // namespace

Expected<LockOutcome> runLockWorkflow(Model &model, const Dataset &train, const Dataset &test,
    const ProtectionMethod &method, const LockRequest &request, const WorkflowOptions &options, Progress &progress)
{
    if (!method.can(Capability::Lock))
        return Error{method.name() + " does not lock models"};
    if (auto ok = method.validate(request); !ok)
        return Error{ok.error()};
    for (const Dataset *data : {&train, &test})
        if (auto ok = checkCompatible(model, *data); !ok)
            return Error{ok.error()};
    if (auto ok = checkFiniteWeights(model); !ok)
        return Error{ok.error()};
    if (auto ok = method.checkModel(model, request); !ok)
        return Error{ok.error()};
    if (auto ok = checkRuns(model, test); !ok)
        return Error{ok.error()};

    LockOutcome outcome;
    outcome.method = method.id();
    outcome.request = request;
    outcome.randomGuess = 1.0 / double(classesOf(model, test));
    auto indices = method.drawSample(train, request);
    if (!indices)
        return Error{indices.error()};
    outcome.sampleIndices = std::move(*indices);
    const Dataset sample = train.subset(outcome.sampleIndices);

    EvaluationOptions eval;
    eval.limit = options.evalLimit;
    eval.keepPredictions = options.previewCount > 0;
    // Three parts, each with its own bar from 0 to 100% and named as such: their shares of the wait differ by
    // method and model (the DenseNet's strong lock takes about as long as an evaluation of its 10,000 test images),
    // so one bar over all three would stall or jump.
    std::optional<ProgressSpan> part;
    part.emplace(progress, 0.0, 1.0, "1 of 3, the original");
    auto before = evaluate(model, test, eval, &*part);
    if (!before)
        return Error{before.error()};
    outcome.accuracyBefore = before->accuracy;
    if (!options.allowUntrained && before->accuracy <= kTrainedFactor * outcome.randomGuess)
        return Error{"the model scores " + percentText(before->accuracy) + " on " + test.name
            + ", no better than random guess (" + percentText(outcome.randomGuess)
            + "): wrong dataset or normalisation? To lock an untrained model on purpose, "
            + options.allowUntrainedHint};

    part.emplace(progress, 0.0, 1.0, "2 of 3, locking", ProgressSpan::Steps::PassOn);
    auto locked = method.lock(model, options.inPlace, sample, request, *part);
    if (!locked)
        return Error{locked.error()};
    outcome.result = std::move(*locked);
    part.emplace(progress, 0.0, 1.0, "3 of 3, the locked model");
    auto after = evaluate(outcome.result.locked, test, eval, &*part);
    if (!after)
        return Error{after.error()};
    outcome.accuracyAfter = after->accuracy;
    outcome.testSamples = after->total;
    const auto n = size_t(std::min<int64_t>(options.previewCount, after->total));
    if (n > 0) {
        outcome.predictionsBefore.assign(before->predictions.begin(), before->predictions.begin() + long(n));
        outcome.predictionsAfter.assign(after->predictions.begin(), after->predictions.begin() + long(n));
    }

    const double useless = kUselessFactor * outcome.randomGuess;
    if (!outcome.result.reachedTarget)
        outcome.weakness = "the lock did not reach its target: " + outcome.result.stopReason + "; the locked model "
            + "scores " + percentText(outcome.accuracyAfter) + " on the test set";
    else if (outcome.accuracyAfter > useless)
        outcome.weakness = "the locked model still scores " + percentText(outcome.accuracyAfter)
            + " on the test set, above " + percentText(useless) + " (" + fixedText(kUselessFactor, 1)
            + " x random guess), although the lock " + outcome.result.stopReason;
    return outcome;
}

Dataset lockSample(const LockOutcome &outcome, const Dataset &train)
{
    return train.subset(outcome.sampleIndices);
}

DemoOptions demoOptions()
{
    DemoOptions demo;
    demo.modelPath = demoModelPath();
    demo.method = defaultMethod().id();
    return demo;
}

} // namespace paramlock
