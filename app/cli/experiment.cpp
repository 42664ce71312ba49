#include "commands.h"

#include "cliutil.h"
#include "methodflags.h"

#include "advparams.h"
#include "experiments.h"

#include <nlohmann/json.hpp>

namespace paramlock::cli {

using nlohmann::json;

int cmdExperiment(const QStringList &args)
{
    const MethodFlags flags;
    const QCommandLineOption kind(QStringLiteral("kind"),
        QStringLiteral("t-loss (Fig. 5, paper mode), layers (Fig. 6: one layer locked at a time) or n-e (Fig. 7)."),
        QStringLiteral("KIND"));
    const QCommandLineOption thresholds(QStringLiteral("thresholds"),
        QStringLiteral("T_loss values for --kind t-loss (default 1,2,...,15)."), QStringLiteral("LIST"),
        QStringLiteral("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15"));
    const QCommandLineOption counts(QStringLiteral("counts"),
        QStringLiteral("Encrypted-weight counts for --kind n-e (default 0,2,4,...,64)."), QStringLiteral("LIST"));
    QCommandLineParser p;
    int code = Usage;
    QList<QCommandLineOption> options = {kModel, kData, kSeed, kInputMean, kInputStd, kNumClasses, kEvalSamples,
        kThreads, kQuiet, kJson, kCsv, kind, thresholds, counts};
    options += flags.options();
    if (!parse(p, args,
            QStringLiteral("Runs AdvParams' experiments on a model: accuracy against T_loss, per locked layer, or "
                           "against the number of encrypted weights (the paper's Figs. 5-7)."),
            options, code))
        return code;
    applyThreads(p);
    const QString what = p.value(kind);
    if (what != QLatin1String("t-loss") && what != QLatin1String("layers") && what != QLatin1String("n-e"))
        return fail("--kind must be t-loss, layers or n-e", Usage);
    auto choice = flags.read(p);
    if (!choice)
        return fail(choice.error(), Usage);
    if (choice->method != &advParamsMethod())
        return fail("the experiments are AdvParams' (the paper's Figs. 5-7); leave --method out", Usage);
    // Fig. 5 is about the paper's threshold: paper mode, with its default layer choice.
    if (what == QLatin1String("t-loss") && !flags.isSet(p, "mode"))
        choice->request.values.set("mode", modeId(LockMode::Paper));
    auto settings = settingsFromValues(choice->request.values);
    if (!settings)
        return fail(settings.error(), Usage);
    AdvParamsOptions lockOptions;
    lockOptions.settings = *settings;
    lockOptions.settings.seed = choice->request.seed;
    int64_t evalLimit = 0;
    if (auto e = integer(p, kEvalSamples, evalLimit))
        return fail(*e, Usage);
    CliProgress progress(p.isSet(kQuiet));
    auto inputs = openLockInputs(p, progress, code);
    if (!inputs)
        return code;
    auto &[model, train, test] = *inputs;
    auto drawn = drawEncryptionSet(train, lockOptions.settings);
    if (!drawn)
        return fail(drawn.error());
    const Dataset &encryptionSet = *drawn;
    ProgressScope scope(progress);
    Expected<Sweep> sweep = Error{""};
    if (what == QLatin1String("t-loss")) {
        auto list = numberList(p.value(thresholds), "thresholds");
        if (!list)
            return fail(list.error(), Usage);
        sweep = lossThresholdSweep(model, encryptionSet, test, lockOptions, *list, progress, evalLimit);
    } else if (what == QLatin1String("n-e")) {
        std::vector<int64_t> wanted;
        if (p.isSet(counts)) {
            auto list = numberList(p.value(counts), "counts");
            if (!list)
                return fail(list.error(), Usage);
            for (double c : *list)
                wanted.push_back(int64_t(c));
        } else {
            for (int64_t c = 0; c <= 64; c += 2)
                wanted.push_back(c);
        }
        sweep = encryptedCountSweep(model, encryptionSet, test, lockOptions, wanted, progress, evalLimit);
    } else {
        sweep = perLayerSweep(model, encryptionSet, test, lockOptions, progress, evalLimit);
    }
    progress.finish();
    if (!sweep)
        return fail(sweep.error(), progress.cancelled() ? Cancelled : Failed);
    if (p.isSet(kJson)) {
        json points = json::array();
        for (const auto &pt : sweep->points)
            points.push_back(
                {{"x", pt.x}, {"label", pt.label}, {"accuracy", pt.accuracy}, {"n_encrypted", pt.encrypted}});
        out() << QString::fromStdString(json{{"experiment", sweep->kind}, {"x_label", sweep->xLabel},
            {"mode", modeId(lockOptions.settings.mode)}, {"points", points},
            {"seconds", sweep->seconds}}.dump(2))
              << Qt::endl;
    } else if (p.isSet(kCsv)) {
        out() << "experiment,x,label,accuracy,n_encrypted\n";
        for (const auto &pt : sweep->points)
            out() << QString::fromStdString(sweep->kind) << ',' << pt.x << ',' << QString::fromStdString(pt.label)
                  << ',' << pt.accuracy << ',' << pt.encrypted << '\n';
        out().flush();
    } else {
        out() << QString::fromStdString(sweep->kind) << " (" << QString::fromStdString(sweep->xLabel) << ", "
              << QString::fromStdString(modeId(lockOptions.settings.mode)) << " mode):\n";
        for (const auto &pt : sweep->points)
            out() << "  "
                  << (pt.label.empty() ? QString::number(pt.x, 'g', 4) : QString::fromStdString(pt.label))
                         .leftJustified(24)
                  << percentString(pt.accuracy).rightJustified(8) << "   n_e " << pt.encrypted << "\n";
        out() << "  (" << QString::number(sweep->seconds, 'f', 1) << " s)" << Qt::endl;
    }
    return Ok;
}

} // namespace paramlock::cli
