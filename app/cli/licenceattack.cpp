// paramlock-cli licence attack: the adaptive attack on a SecureNet licence, a pattern searched with k labelled
// images (core/methods/securenet).
#include "commands.h"

#include "cliutil.h"

#include "securenet.h"
#include "text.h"
#include "training.h"

#include <nlohmann/json.hpp>

#include <utility>

namespace paramlock::cli {

using nlohmann::json;

int licenceAttackCommand(const QStringList &args)
{
    const QCommandLineOption sizes(QStringLiteral("sizes"),
        QStringLiteral("The attacker's labelled training images, comma-separated (default 100,1000)."),
        QStringLiteral("LIST"), QStringLiteral("100,1000"));
    const QCommandLineOption steps(QStringLiteral("steps"),
        QStringLiteral("Adam steps of the pattern search (default %1).").arg(PatternSearchOptions{}.steps),
        QStringLiteral("N"), QString::number(PatternSearchOptions{}.steps));
    QCommandLineParser p;
    int code = Usage;
    if (!parse(p, args,
            QStringLiteral("The adaptive attack on a licensed model: an attacker with k labelled training images "
                           "searches for an input pattern of their own that makes the model answer (a universal "
                           "additive pattern, Adam on the cross-entropy); scored on the test set."),
            QList<QCommandLineOption>{kModel, kData, kSeed, kInputMean, kInputStd, kNumClasses, kEvalSamples, kThreads,
                kQuiet, kJson, sizes, steps},
            code))
        return code;
    applyThreads(p);
    int64_t seed = 0, limit = 0, stepCount = 0;
    for (const auto &[option, value] : {std::pair{&kSeed, &seed}, {&kEvalSamples, &limit}, {&steps, &stepCount}})
        if (auto e = integer(p, *option, *value))
            return fail(*e, Usage);
    auto ks = numberList(p.value(sizes), "sizes");
    if (!ks)
        return fail(ks.error(), Usage);
    CliProgress progress(p.isSet(kQuiet));
    auto in = openLockInputs(p, progress, code);
    if (!in)
        return code;
    auto without = accuracyOn(in->model, in->test, limit);
    if (!without)
        return fail(without.error());
    json rows = json::array();
    ProgressScope scope(progress);
    for (double k : *ks) {
        SamplingOptions sampling;
        sampling.count = int64_t(k);
        sampling.seed = uint64_t(seed) ^ 0xa77ac4ULL;
        auto drawn = sampleIndices(in->train, sampling);
        if (!drawn)
            return fail(drawn.error(), Usage);
        PatternSearchOptions options;
        options.steps = int(stepCount);
        options.seed = uint64_t(seed);
        ProgressSpan span(progress, 0.0, 1.0, "k = " + std::to_string(int64_t(k)));
        auto pattern = searchPattern(in->model, in->train.subset(*drawn), options, span);
        if (!pattern)
            return fail(pattern.error(), progress.cancelled() ? Cancelled : Failed);
        auto accuracy = accuracyWithStamp(in->model, *pattern, in->test, limit);
        if (!accuracy)
            return fail(accuracy.error());
        rows.push_back({{"k", int64_t(k)}, {"accuracy", *accuracy}});
    }
    progress.finish();
    if (p.isSet(kJson)) {
        out() << QString::fromStdString(
            json{{"without_licence", *without}, {"steps", stepCount}, {"pattern_search", rows}}.dump(2))
              << Qt::endl;
        return Ok;
    }
    out() << "Without a licence: " << QString::fromStdString(percentText(*without)) << '\n';
    for (const json &r : rows)
        out() << "k = " << r["k"].get<int64_t>() << ": the searched pattern scores "
              << QString::fromStdString(percentText(r["accuracy"].get<double>())) << '\n';
    out().flush();
    return Ok;
}

} // namespace paramlock::cli
