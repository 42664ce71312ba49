#include "commands.h"

#include "cliutil.h"
#include "training.h"

#include <nlohmann/json.hpp>

namespace paramlock::cli {

using nlohmann::json;

int cmdEvaluate(const QStringList &args)
{
    QCommandLineParser p;
    int code = Usage;
    if (!parse(p, args, QStringLiteral("Measures a model's accuracy on a dataset's test split."),
            {kModel, kData, kInputMean, kInputStd, kNumClasses, kEvalSamples, kThreads, kQuiet, kJson}, code))
        return code;
    applyThreads(p);
    int64_t limit = 0;
    if (auto e = integer(p, kEvalSamples, limit))
        return fail(*e, Usage);
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
    auto eval = evaluate(*model, *test, options, &progress);
    progress.finish();
    if (!eval)
        return fail(eval.error());
    if (p.isSet(kJson))
        out() << QString::fromStdString(json{{"accuracy", eval->accuracy}, {"correct", eval->correct},
            {"total", eval->total}, {"mean_loss", eval->meanLoss},
            {"seconds", eval->seconds}}.dump(2))
              << Qt::endl;
    else
        out() << "Accuracy: " << percentString(eval->accuracy) << " (" << eval->correct << " of " << eval->total << ")"
              << Qt::endl;
    return Ok;
}

} // namespace paramlock::cli
