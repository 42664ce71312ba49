#include "commands.h"

#include "cliutil.h"
#include "training.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <vector>

namespace paramlock::cli {

using nlohmann::json;

int cmdEvaluate(const QStringList &args)
{
    QCommandLineParser p;
    const QCommandLineOption batch(QStringLiteral("batch-size"),
        QStringLiteral("Images per forward pass (default: the fastest for the model on this machine, measured while "
                       "evaluating)."),
        QStringLiteral("N"));
    int code = Usage;
    if (!parse(p, args, QStringLiteral("Measures a model's accuracy on a dataset's test split."),
            {kModel, kData, kInputMean, kInputStd, kNumClasses, kEvalSamples, batch, kThreads, kQuiet, kJson}, code))
        return code;
    applyThreads(p);
    int64_t limit = 0, batchSize = 0;
    if (auto e = integer(p, kEvalSamples, limit))
        return fail(*e, Usage);
    if (auto e = integer(p, batch, batchSize))
        return fail(*e, Usage);
    if (batchSize < 0 || batchSize > 100000)
        return fail("--batch-size expects 1 to 100000 images (or leave it out to let ParamLock measure), got "
                + std::to_string(batchSize),
            Usage);
    auto model = openModel(p);
    if (!model)
        return fail(model.error());
    CliProgress progress(p.isSet(kQuiet));
    auto test = openData(p, Split::Test, progress);
    if (!test)
        return fail(test.error());
    if (auto ok = completeMetadata(*model, p, &*test); !ok)
        return fail(ok.error(), Usage);
    ProgressScope scope(progress);
    EvaluationOptions options;
    options.limit = limit;
    options.batchSize = int(batchSize);
    options.keepPredictions = p.isSet(kJson);
    auto eval = evaluate(*model, *test, options, &progress);
    progress.finish();
    if (!eval)
        return fail(eval.error());
    if (p.isSet(kJson)) {
        // Each class's accuracy: what a lock or licence costs one class (a class-subset licence is judged on its
        // classes against the original's accuracy on the same classes).
        const int classes = std::max(1, model->metadata().classCount);
        std::vector<int64_t> right(size_t(classes), 0), seen(size_t(classes), 0);
        for (size_t i = 0; i < eval->predictions.size() && i < test->labels.size(); ++i) {
            const int label = test->labels[i];
            if (label < 0 || label >= classes)
                continue;
            ++seen[size_t(label)];
            right[size_t(label)] += eval->predictions[i] == label;
        }
        json perClass = json::array();
        for (int c = 0; c < classes; ++c)
            perClass.push_back({{"class", c}, {"correct", right[size_t(c)]}, {"total", seen[size_t(c)]}});
        out() << QString::fromStdString(json{{"accuracy", eval->accuracy}, {"correct", eval->correct},
            {"total", eval->total}, {"mean_loss", eval->meanLoss}, {"seconds", eval->seconds},
            {"batch_size", eval->batchSize}, {"threads", threadCount()},
            {"per_class", perClass}}.dump(2))
              << Qt::endl;
    } else
        out() << "Accuracy: " << percentString(eval->accuracy) << " (" << eval->correct << " of " << eval->total << ")"
              << Qt::endl;
    return Ok;
}

} // namespace paramlock::cli
