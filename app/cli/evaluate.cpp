#include "commands.h"

#include "cliutil.h"
#include "training.h"

#include <nlohmann/json.hpp>

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
    auto eval = evaluate(*model, *test, options, &progress);
    progress.finish();
    if (!eval)
        return fail(eval.error());
    if (p.isSet(kJson))
        out() << QString::fromStdString(json{{"accuracy", eval->accuracy}, {"correct", eval->correct},
            {"total", eval->total}, {"mean_loss", eval->meanLoss}, {"seconds", eval->seconds},
            {"batch_size", eval->batchSize},
            {"threads", threadCount()}}.dump(2))
              << Qt::endl;
    else
        out() << "Accuracy: " << percentString(eval->accuracy) << " (" << eval->correct << " of " << eval->total << ")"
              << Qt::endl;
    return Ok;
}

} // namespace paramlock::cli
