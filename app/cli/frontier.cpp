#include "commands.h"

#include "cliutil.h"

#include "frontier.h"
#include "text.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace paramlock::cli {

using nlohmann::json;

namespace {

double orMinusOne(double x)
{
    return std::isnan(x) ? -1.0 : x;
}

json stealthJson(const StealthMeasures &m)
{
    return {{"score", m.score()}, {"mean_shift", m.meanShift}, {"std_shift", m.stdShift},
        {"range_excess", m.rangeExcess}, {"correlation_drop", m.correlationDrop},
        {"correlation_before", m.correlationBefore}, {"correlation_after", m.correlationAfter},
        {"worst_layer", m.worstLayer}};
}

QString csvText(const std::string &text)
{
    return QLatin1Char('"') + QString::fromStdString(text).replace(QLatin1Char('"'), QStringLiteral("\"\""))
        + QLatin1Char('"');
}

} // namespace

int cmdFrontier(const QStringList &args)
{
    const QCommandLineOption k(QStringLiteral("k"),
        QStringLiteral("The thief's labelled training images the advantage is measured at (default 1000)."),
        QStringLiteral("N"), QStringLiteral("1000"));
    const QCommandLineOption only(QStringLiteral("methods"),
        QStringLiteral("Compare only these methods' settings, a comma-separated list of %1 (default: all of them).")
            .arg(QString::fromStdString(methodIds(Capability::Lock))),
        QStringLiteral("LIST"));
    QCommandLineParser p;
    int code = Usage;
    if (!parse(p, args,
            QStringLiteral("Locks the model with every method and setting, and places each lock on the frontier: "
                           "weights changed and key size, what it is worth to a thief with k labelled images (the "
                           "advantage analysis), and how visible it is (the stealth score). The model is not changed "
                           "and nothing is written."),
            {kModel, kData, kInputMean, kInputStd, kNumClasses, k, only, kGrid, kSettings, kSelectionImages,
                kWithoutOriginal, kSteps, kSeed, kEvalSamples, kThreads, kQuiet, kJson, kCsv},
            code))
        return code;
    applyThreads(p);
    int64_t size = 0, evalLimit = 0, steps = 0;
    for (auto [option, value] : {std::pair{&k, &size}, {&kEvalSamples, &evalLimit}, {&kSteps, &steps}})
        if (auto e = integer(p, *option, *value))
            return fail(*e, Usage);
    int64_t seed = 0;
    if (auto e = integer(p, kSeed, seed))
        return fail(*e, Usage);
    if (size < 1)
        return fail("-k must be at least 1 labelled image (e.g. -k 1000)", Usage);
    FrontierOptions o;
    o.size = size;
    o.seed = uint64_t(seed);
    o.evalLimit = evalLimit;
    if (auto ok = applyGrid(p, o.advantage); !ok)
        return fail(ok.error(), Usage);
    if (steps < 1)
        return fail("--steps must be at least 1", Usage);
    o.advantage.steps = steps;

    CliProgress progress(p.isSet(kQuiet));
    QStringList wanted = p.value(only).split(QLatin1Char(','), Qt::SkipEmptyParts);
    for (QString &id : wanted)
        id = id.trimmed();
    for (const QString &id : wanted)
        if (!methodById(id.toStdString()))
            return fail(
                "--methods: unknown method \"" + id.toStdString() + "\" (use " + methodIds(Capability::Lock) + ")",
                Usage);
    auto inputs = openLockInputs(p, progress, code);
    if (!inputs)
        return code;
    if (p.isSet(only)) {
        for (const FrontierCandidate &c : frontierCandidates(inputs->model))
            if (wanted.contains(QString::fromStdString(c.method)))
                o.candidates.push_back(c);
        // An empty list would mean "all of them" to the analysis.
        if (o.candidates.empty())
            return fail("--methods names no method that locks models (use " + methodIds(Capability::Lock) + ")", Usage);
    }
    ProgressScope scope(progress);
    auto r = frontierAnalysis(inputs->model, inputs->train, inputs->test, o, progress);
    progress.finish();
    if (!r)
        return fail(r.error(), progress.cancelled() ? Cancelled : Failed);
    const std::string summary = frontierSummary(*r);

    if (p.isSet(kJson)) {
        json points = json::array();
        for (const FrontierPoint &pt : r->points)
            points.push_back({{"method", pt.candidate.method}, {"label", pt.candidate.label},
                {"weights_changed", pt.weightsChanged}, {"weights", pt.parameterCount}, {"key_bytes", pt.keyBytes},
                {"locked_accuracy", pt.lockedAccuracy}, {"weakness", pt.weakness},
                {"attacker",
                    {{"accuracy", pt.attacker.accuracy}, {"setting", pt.attacker.setting},
                        {"epoch", pt.attacker.epoch}}},
                {"ratio", orMinusOne(pt.ratio)}, {"advantage", orMinusOne(pt.advantage)},
                {"stealth", stealthJson(pt.stealth)}, {"lock_seconds", pt.lockSeconds}});
        out() << QString::fromStdString(json{{"k", r->size}, {"victim_accuracy", r->victimAccuracy},
            {"scratch", {{"accuracy", r->scratch.accuracy}, {"setting", r->scratch.setting}}},
            {"original", {{"accuracy", r->original.accuracy}, {"setting", r->original.setting}}},
            {"random_guess", r->randomGuess}, {"test_images", r->testImages}, {"grid", r->grid}, {"runs", r->runs},
            {"seconds", r->seconds}, {"points", points},
            {"summary", summary}}.dump(2))
              << Qt::endl;
        return Ok;
    }
    if (p.isSet(kCsv)) {
        out() << "method,label,weights_changed,key_bytes,locked_accuracy,a_att,ratio,advantage,stealth_score,"
                 "mean_shift,std_shift,range_excess,correlation_drop,weak\n";
        for (const FrontierPoint &pt : r->points)
            out() << QString::fromStdString(pt.candidate.method) << ',' << csvText(pt.candidate.label) << ','
                  << pt.weightsChanged << ',' << pt.keyBytes << ',' << pt.lockedAccuracy << ',' << pt.attacker.accuracy
                  << ',' << pt.ratio << ',' << pt.advantage << ',' << pt.stealth.score() << ',' << pt.stealth.meanShift
                  << ',' << pt.stealth.stdShift << ',' << pt.stealth.rangeExcess << ',' << pt.stealth.correlationDrop
                  << ',' << (pt.weakness.empty() ? 0 : 1) << '\n';
        out().flush();
        return Ok;
    }
    out() << "frontier at k = " << r->size << " (the original: " << percentString(r->victimAccuracy)
          << "; from scratch: " << percentString(r->scratch.accuracy) << "; on " << r->testImages << " test images):\n"
          << "  weights changed   key (B)  locked   A_att      R  advantage  stealth  lock\n";
    for (const FrontierPoint &pt : r->points) {
        out() << "  " << QString::number(pt.weightsChanged).rightJustified(15) << "  "
              << QString::number(pt.keyBytes).rightJustified(8) << "  "
              << percentString(pt.lockedAccuracy).rightJustified(6) << "  "
              << percentString(pt.attacker.accuracy).rightJustified(6) << "  "
              << QString::number(pt.ratio, 'f', 2).rightJustified(5) << "  "
              << (std::isnan(pt.advantage) ? QStringLiteral("n/a") : QString::number(pt.advantage, 'f', 2))
                     .rightJustified(9)
              << "  " << QString::number(pt.stealth.score(), 'f', 2).rightJustified(7) << "  "
              << QString::fromStdString(pt.candidate.label) << (pt.weakness.empty() ? "" : " (weak)") << "\n";
    }
    out() << "Sweep: " << QString::fromStdString(r->grid) << "; " << r->runs << " runs, "
          << QString::number(r->seconds, 'f', 1) << " s\n"
          << QString::fromStdString(summary) << Qt::endl;
    return Ok;
}

} // namespace paramlock::cli
