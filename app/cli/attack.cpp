#include "commands.h"

#include "cliutil.h"
#include "password.h"

#include "advparamsattacks.h"
#include "atomicfile.h"
#include "analysis.h"
#include "attacks.h"
#include "fingerprint.h"
#include "frontier.h"
#include "training.h"
#include "unlock.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <memory>

namespace paramlock::cli {

using nlohmann::json;

namespace {

json curveJson(const AttackCurve &c)
{
    json points = json::array();
    for (const auto &p : c.points) {
        json point{{"x", p.x}, {"accuracy", p.accuracy}};
        for (const auto &[name, value] : p.observed)
            point[name] = value;
        points.push_back(point);
    }
    return {{"attack", c.attack}, {"x_label", c.xLabel}, {"points", points}, {"seconds", c.seconds}};
}

void printCurve(const AttackCurve &c, bool csv)
{
    if (csv) {
        out() << "attack,x,accuracy";
        if (!c.points.empty())
            for (const auto &o : c.points.front().observed)
                out() << ',' << QString::fromStdString(o.first);
        out() << '\n';
        for (const auto &p : c.points) {
            out() << QString::fromStdString(c.attack) << ',' << p.x << ',' << p.accuracy;
            for (const auto &o : p.observed)
                out() << ',' << o.second;
            out() << '\n';
        }
        out().flush();
        return;
    }
    out() << QString::fromStdString(c.attack) << " (" << QString::fromStdString(c.xLabel) << "):\n";
    for (const auto &p : c.points) {
        out() << "  " << QString::number(p.x, 'g', 4).rightJustified(8) << "  " << percentString(p.accuracy);
        for (const auto &[name, value] : p.observed)
            out() << "  " << QString::fromStdString(name) << ' ' << percentString(value, 0);
        out() << "\n";
    }
    out() << "  (" << QString::number(c.seconds, 'f', 1) << " s)" << Qt::endl;
}

json pointJson(const CurvePoint &c)
{
    return {{"accuracy", c.accuracy}, {"setting", c.setting}, {"epoch", c.epoch}};
}

double orNull(double x)
{
    return std::isnan(x) ? -1.0 : x;
}

/** What makes two advantage runs' scratch and original curves the same measurement (their --json "sweep"). */
json sweepJson(const AdvantageOptions &o, const Model &original, int64_t testImages)
{
    json settings = json::array();
    for (const TrainSetting &s : o.settings)
        settings.push_back(s.text());
    return {{"original_fingerprint", original.fingerprint()}, {"seed", o.seed}, {"grid", o.grid},
        {"search_size", o.searchSize}, {"settings", settings}, {"steps", o.steps}, {"batch_size", o.batchSize},
        {"epochs", {o.minEpochs, o.maxEpochs}}, {"checkpoints", o.checkpoints}, {"test_images", testImages},
        {"original_curve", o.includeOriginal},
        {"selection_images", o.selectionImages > 0 ? std::min(o.selectionImages, testImages) : testImages}};
}

/**
 * --baseline: the scratch and original curves of an earlier `--json` run on another lock of the same original, with
 * the same sweep; refused with the first difference otherwise.
 */
Expected<std::shared_ptr<const AdvantageResult>> readBaseline(const QString &path, const json &sweep)
{
    const std::string file = path.toStdString();
    auto text = readWholeFile(file);
    if (!text)
        return Error{text.error()};
    json j = json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.value("attack", "") != "advantage" || !j.contains("rows"))
        return Error{file + " is not the --json output of `attack --kind advantage`; pass the file one such run wrote"};
    if (!j.contains("sweep"))
        return Error{file + " was written by an older ParamLock that did not record its sweep; run the analysis again"};
    for (auto it = sweep.begin(); it != sweep.end(); ++it)
        if (j["sweep"].value(it.key(), json()) != it.value())
            return Error{"the baseline " + file + " was measured with another " + it.key() + " ("
                + j["sweep"].value(it.key(), json()).dump() + ", here " + it.value().dump()
                + "): use the same original model and the same sweep options"};
    auto r = std::make_shared<AdvantageResult>();
    r->victimAccuracy = j.value("victim_accuracy", 0.0);
    r->testImages = j.value("test_images", int64_t(0));
    const auto point = [](const json &p) {
        return CurvePoint{p.value("accuracy", -1.0), p.value("setting", ""), p.value("epoch", 0)};
    };
    for (const json &row : j["rows"]) {
        AdvantageRow a;
        a.size = row.value("k", int64_t(-1));
        a.scratch = point(row.value("scratch", json::object()));
        a.original = point(row.value("original", json::object()));
        r->rows.push_back(a);
    }
    return std::shared_ptr<const AdvantageResult>(r);
}

/** --kind advantage: A_att, A_scr and A_orig for each k, R, the advantage and the plain-words level. */
int attackAdvantage(const QCommandLineParser &p, const Model &locked, const std::optional<SecretKey> &key,
    const Dataset &test, AdvantageOptions o, CliProgress &progress)
{
    Model original;
    if (p.isSet(QStringLiteral("original"))) {
        auto loaded = Model::load(p.value(QStringLiteral("original")).toStdString());
        if (!loaded)
            return fail(loaded.error());
        original = *loaded;
        original.setMetadata(locked.metadata());
    } else {
        auto unlocked = unlockModel(locked, *key);
        if (!unlocked)
            return fail(unlocked.error());
        original = *unlocked;
    }
    const auto shapes = [](const Model &m) {
        std::vector<std::vector<int64_t>> out;
        for (const LayerInfo &l : m.layers())
            out.push_back(l.shape);
        return out;
    };
    if (shapes(original) != shapes(locked))
        return fail("the --original model does not have the locked model's conv/FC layers (another architecture); "
                    "pass the model the lock was made from");
    if (original.fingerprint() == locked.fingerprint())
        return fail("the model given is not locked (its weights are the original's); pass the locked model with "
                    "--model");
    const int64_t testImages = o.evalLimit > 0 ? std::min(o.evalLimit, test.size()) : test.size();
    const json sweep = sweepJson(o, original, testImages);
    if (p.isSet(QStringLiteral("baseline"))) {
        auto baseline = readBaseline(p.value(QStringLiteral("baseline")), sweep);
        if (!baseline)
            return fail(baseline.error(), Usage);
        o.baseline = *baseline;
    }
    if (key)
        if (const ProtectionMethod *method = methodById(key->method))
            addMethodRepair(o, *method, test, o.evalLimit);
    auto train = openData(p, Split::Train, progress);
    if (!train)
        return fail(train.error());
    auto r = advantageAnalysis(original, locked, *train, test, o, progress);
    progress.finish();
    if (!r)
        return fail(r.error(), progress.cancelled() ? Cancelled : Failed);
    const std::string level = protectionLevel(*r);
    if (p.isSet(kJson)) {
        json rows = json::array();
        for (const AdvantageRow &row : r->rows)
            rows.push_back({{"k", row.size}, {"attacker", pointJson(row.attacker)}, {"scratch", pointJson(row.scratch)},
                {"original", pointJson(row.original)}, {"ratio", orNull(row.ratio)},
                {"advantage", orNull(row.advantage)}});
        out() << QString::fromStdString(json{{"attack", "advantage"}, {"victim_accuracy", r->victimAccuracy},
            {"locked_accuracy", r->lockedAccuracy}, {"random_guess", r->randomGuess}, {"test_images", r->testImages},
            {"grid", r->grid}, {"sweep", sweep}, {"runs", r->runs}, {"trained_images", r->trainedImages},
            {"selection_images", r->selectionImages}, {"seconds", r->seconds}, {"rows", rows},
            {"protection_level", level}}.dump(2))
              << Qt::endl;
        return Ok;
    }
    if (p.isSet(kCsv)) {
        out() << "k,a_att,a_scr,a_orig,ratio,advantage,a_att_setting,a_scr_setting\n";
        for (const AdvantageRow &row : r->rows)
            out() << row.size << ',' << row.attacker.accuracy << ',' << row.scratch.accuracy << ','
                  << row.original.accuracy << ',' << row.ratio << ',' << row.advantage << ",\""
                  << QString::fromStdString(row.attacker.setting) << "\",\""
                  << QString::fromStdString(row.scratch.setting) << "\"\n";
        out().flush();
        return Ok;
    }
    out() << "advantage (the original: " << percentString(r->victimAccuracy)
          << ", locked: " << percentString(r->lockedAccuracy) << ", on " << r->testImages << " test images):\n"
          << "       k     A_att     A_scr    A_orig      R  advantage\n";
    for (const AdvantageRow &row : r->rows)
        out() << QString::number(row.size).rightJustified(8) << "  "
              << percentString(row.attacker.accuracy).rightJustified(8) << "  "
              << percentString(row.scratch.accuracy).rightJustified(8) << "  "
              << (row.original.accuracy < 0 ? QStringLiteral("-") : percentString(row.original.accuracy))
                     .rightJustified(8)
              << "  "
              << (std::isnan(row.ratio) ? QStringLiteral("n/a") : QString::number(row.ratio, 'f', 2)).rightJustified(5)
              << "  "
              << (std::isnan(row.advantage) ? QStringLiteral("n/a") : QString::number(row.advantage, 'f', 2))
                     .rightJustified(9)
              << "\n";
    out() << "Sweep: " << QString::fromStdString(r->grid) << "; " << r->runs << " runs, "
          << QString::number(r->seconds, 'f', 1) << " s\n"
          << QString::fromStdString(level) << Qt::endl;
    return Ok;
}

} // namespace

int cmdAttack(const QStringList &args)
{
    const QCommandLineOption kind(QStringLiteral("kind"),
        QStringLiteral("finetune (Table III), prune (Table IV), adaptive (Table V), clip (norm clipping), detect "
                       "(can the changed weights be found?) or advantage (is stealing worth it to a thief with k "
                       "labelled images? needs --key or --original)."),
        QStringLiteral("KIND"));
    const QCommandLineOption variant(QStringLiteral("variant"),
        QStringLiteral("Adaptive attack: paper (re-run the selection, subtract Eq. 3), global (joint over all "
                       "layers) or swap (undo the strong mode's swaps). Default paper."),
        QStringLiteral("NAME"), QStringLiteral("paper"));
    const QCommandLineOption fraction(QStringLiteral("fraction"),
        QStringLiteral("Share of the test set the attacker holds (default %1); the rest judges it.")
            .arg(AnalysisContext{}.attackerFraction),
        QStringLiteral("X"), QString::number(AnalysisContext{}.attackerFraction));
    const FineTuneOptions tune;
    const QCommandLineOption epochs(QStringLiteral("epochs"),
        QStringLiteral("Fine-tuning epochs (default %1).").arg(tune.epochs), QStringLiteral("N"),
        QString::number(tune.epochs));
    const QCommandLineOption every(QStringLiteral("report-every"),
        QStringLiteral("Report fine-tuning accuracy every N epochs (default 10; epoch 1 always)."), QStringLiteral("N"),
        QStringLiteral("10"));
    const QCommandLineOption lr(QStringLiteral("lr"),
        QStringLiteral("Fine-tuning learning rate (default %1).").arg(tune.learningRate), QStringLiteral("X"),
        QString::number(tune.learningRate));
    const QCommandLineOption optimizer(QStringLiteral("optimizer"),
        QStringLiteral("Fine-tuning optimiser: sgd (momentum 0.9) or adam (default %1).")
            .arg(QString::fromStdString(tune.optimizer)),
        QStringLiteral("NAME"), QString::fromStdString(tune.optimizer));
    const QCommandLineOption batch(QStringLiteral("batch-size"),
        QStringLiteral("Fine-tuning batch size (default %1).").arg(tune.batchSize), QStringLiteral("N"),
        QString::number(tune.batchSize));
    const QCommandLineOption rates(QStringLiteral("rates"), QStringLiteral("Pruning rates (default 0,0.1,...,0.9)."),
        QStringLiteral("LIST"), QStringLiteral("0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9"));
    const QCommandLineOption layerwise(
        QStringLiteral("per-layer"), QStringLiteral("Prune each layer by the rate instead of one global threshold."));
    const QCommandLineOption percentiles(QStringLiteral("percentiles"),
        QStringLiteral("Norm clipping: percentiles clipped at each end (default 0,0.5,1,2,5)."), QStringLiteral("LIST"),
        QStringLiteral("0,0.5,1,2,5"));
    const QCommandLineOption iterations(QStringLiteral("iterations"),
        QStringLiteral("Adaptive attack: steps per layer (default: the lock's I, %1).")
            .arg(AdaptiveOptions{}.iterations),
        QStringLiteral("N"), QString::number(AdaptiveOptions{}.iterations));
    const QCommandLineOption budget(QStringLiteral("budget"),
        QStringLiteral("Adaptive swap attack: weights it may change (default %1).").arg(AdaptiveOptions{}.budget),
        QStringLiteral("N"), QString::number(AdaptiveOptions{}.budget));
    const AdvantageOptions adv;
    const QCommandLineOption sizes(QStringLiteral("sizes"),
        QStringLiteral("Advantage: the thief's labelled training images, k (default 0,100,300,1000,3000)."),
        QStringLiteral("LIST"), QStringLiteral("0,100,300,1000,3000"));
    const QCommandLineOption searchSize(QStringLiteral("search-size"),
        QStringLiteral("Advantage: the k where the halving and quick grids search the learning rate (default %1).")
            .arg(adv.searchSize),
        QStringLiteral("N"), QString::number(adv.searchSize));
    const QCommandLineOption originalModel(QStringLiteral("original"),
        QStringLiteral("Advantage: the unlocked original model (instead of --key)."), QStringLiteral("FILE"));
    const QCommandLineOption baselineFile(QStringLiteral("baseline"),
        QStringLiteral("Advantage: reuse the scratch and original curves of an earlier --json run on another lock of "
                       "the same original model with the same sweep (only A_att is trained)."),
        QStringLiteral("FILE"));
    const QCommandLineOption fingerprints(QStringLiteral("fingerprints"),
        QStringLiteral(
            "finetune and prune: a fingerprint registry; after every step the owner's trigger and the users' "
            "fingerprints are checked on the attacked model (does the fingerprint survive?)."),
        QStringLiteral("REGISTRY"));
    const QCommandLineOption outModel(QStringLiteral("out-model"),
        QStringLiteral("finetune: writes the model the attacker ends with (after the last epoch), e.g. to check it "
                       "with `fingerprint identify`."),
        QStringLiteral("FILE"));
    const PasswordFlags keyPassword;
    const PasswordFlags registryPassword(QStringLiteral("registry-"), QStringLiteral("the fingerprint registry"));
    QCommandLineParser p;
    int code = Usage;
    if (!parse(p, args,
            QStringLiteral("Attacks a locked model as someone without the key would, and reports the accuracy it gets "
                           "back (the key, if given, only scores which secret weights an attack found)."),
            QList<QCommandLineOption>{kModel, kKey, kData, kind, variant, fraction, epochs, every, lr, optimizer, batch,
                rates, layerwise, percentiles, iterations, budget, sizes, kGrid, kSettings, kSelectionImages,
                kWithoutOriginal, searchSize, kSteps, originalModel, baselineFile, kSeed, kInputMean, kInputStd,
                kNumClasses, kEvalSamples, kThreads, kQuiet, kJson, kCsv, fingerprints, outModel}
                + keyPassword.all() + registryPassword.all(),
            code))
        return code;
    applyThreads(p);
    const QString what = p.value(kind);
    if (!QStringList{QStringLiteral("finetune"), QStringLiteral("prune"), QStringLiteral("adaptive"),
            QStringLiteral("clip"), QStringLiteral("detect"), QStringLiteral("advantage")}
             .contains(what))
        return fail("--kind must be finetune, prune, adaptive, clip, detect or advantage", Usage);
    int64_t evalLimit = 0, epochCount = 0, everyN = 0, batchSize = 0, iterationCount = 0, budgetCount = 0, searchK = 0,
            stepCount = 0;
    for (auto [opt, target] :
        {std::pair{&kEvalSamples, &evalLimit}, {&epochs, &epochCount}, {&every, &everyN}, {&batch, &batchSize},
            {&iterations, &iterationCount}, {&budget, &budgetCount}, {&searchSize, &searchK}, {&kSteps, &stepCount}})
        if (auto e = integer(p, *opt, *target))
            return fail(*e, Usage);
    double share = 0.0, rate = 0.0;
    if (auto e = number(p, fraction, share))
        return fail(*e, Usage);
    if (!p.isSet(fraction))
        share = AnalysisContext{}.attackerFraction;
    if (auto e = number(p, lr, rate))
        return fail(*e, Usage);
    if (!p.isSet(lr))
        rate = tune.learningRate;

    auto model = openModel(p);
    if (!model)
        return fail(model.error());
    AttackObserver observer;
    if (p.isSet(fingerprints)) {
        if (what != QLatin1String("finetune") && what != QLatin1String("prune"))
            return fail("--fingerprints goes with --kind finetune or prune", Usage);
        auto registry = openKeyFromCli(p.value(fingerprints).toStdString(), p, registryPassword);
        if (!registry)
            return fail(registry.error());
        if (auto ok = checkFingerprints(*model, *registry, 0); !ok)
            return fail(p.value(fingerprints).toStdString() + ": " + ok.error());
        observer = fingerprintObserver(*registry);
    }
    std::optional<Model> attacked; // --out-model: the model at the last observed point
    if (p.isSet(outModel)) {
        if (what != QLatin1String("finetune"))
            return fail("--out-model goes with --kind finetune", Usage);
        if (p.value(outModel) == p.value(kModel))
            return fail("--out-model must not be the attacked model's file; name a new file", Usage);
        observer = [&attacked, observe = observer](
                       const Model &m) -> Expected<std::vector<std::pair<std::string, double>>> {
            attacked = m.clone();
            if (observe)
                return observe(m);
            return std::vector<std::pair<std::string, double>>{};
        };
    }
    std::optional<SecretKey> key;
    if (p.isSet(kKey)) {
        auto loaded = openKeyFromCli(p.value(kKey).toStdString(), p, keyPassword);
        if (!loaded)
            return fail(loaded.error());
        key = *loaded;
    }
    if (what == QLatin1String("detect")) {
        if (!key)
            return fail("--kind detect needs the --key (it scores where the secret weights are)", Usage);
        auto layers = detectionAnalysis(*model, *key);
        if (!layers)
            return fail(layers.error());
        json list = json::array();
        if (p.isSet(kCsv))
            out() << "layer,secret,zscore_hits,filter_hits,mean_change,std_change,std,max_abs_change,range\n";
        for (const auto &d : *layers) {
            if (p.isSet(kCsv))
                out() << QString::fromStdString(d.layer) << ',' << d.secretCount << ',' << d.zScoreHits << ','
                      << d.filterHits << ',' << d.meanChange << ',' << d.stdChange << ',' << d.std << ','
                      << d.maxAbsChange << ',' << d.range << '\n';
            list.push_back({{"layer", d.layer}, {"secret", d.secretCount}, {"zscore_hits", d.zScoreHits},
                {"filter_hits", d.filterHits}, {"mean_change", d.meanChange}, {"std_change", d.stdChange},
                {"std", d.std}, {"max_abs_change", d.maxAbsChange}, {"range", d.range}});
            if (!p.isSet(kJson) && !p.isSet(kCsv))
                out() << QString::fromStdString(d.layer) << ": " << d.secretCount << " secret weights; top-"
                      << d.secretCount << " by |z| finds " << d.zScoreHits << ", by |z| within the filter "
                      << d.filterHits << "; mean change " << percentString(d.meanChange / d.std, 4)
                      << " of std, std change " << percentString(d.stdChange / d.std, 4) << "; largest change "
                      << percentString(d.maxAbsChange / d.range, 1) << " of the layer's range\n";
        }
        if (p.isSet(kJson))
            out() << QString::fromStdString(json{{"attack", "detect"}, {"layers", list}}.dump(2)) << Qt::endl;
        return Ok;
    }

    CliProgress progress(p.isSet(kQuiet));
    auto test = openData(p, Split::Test, progress);
    if (!test)
        return fail(test.error());
    if (auto ok = completeMetadata(*model, p, &*test); !ok)
        return fail(ok.error(), Usage);
    const uint64_t seed = p.value(kSeed).toULongLong();
    ProgressScope scope(progress);
    if (what == QLatin1String("advantage")) {
        if (!key && !p.isSet(originalModel))
            return fail("--kind advantage needs the --key (to restore the original in memory, the ceiling and the "
                        "victim's accuracy) or the --original model",
                Usage);
        AdvantageOptions o;
        auto list = numberList(p.value(sizes), "sizes");
        if (!list)
            return fail(list.error(), Usage);
        o.sizes.clear();
        for (double k : *list) {
            if (k < 0 || k != std::floor(k))
                return fail("--sizes must list whole numbers of images, e.g. 0,100,1000", Usage);
            o.sizes.push_back(int64_t(k));
        }
        if (auto ok = applyGrid(p, o); !ok)
            return fail(ok.error(), Usage);
        o.searchSize = searchK;
        o.steps = stepCount;
        if (p.isSet(batch))
            o.batchSize = int(batchSize);
        o.seed = seed;
        o.evalLimit = evalLimit;
        return attackAdvantage(p, *model, key, *test, o, progress);
    }
    json result;
    if (what == QLatin1String("finetune") || what == QLatin1String("adaptive")) {
        if (!(share > 0.0 && share < 1.0))
            return fail("--fraction must lie between 0 and 1", Usage);
        const AttackerSplit split = splitForAttacker(*test, share, seed);
        if (what == QLatin1String("finetune")) {
            FineTuneOptions o;
            o.epochs = int(epochCount);
            o.reportAt = {1};
            for (int e = int(std::max<int64_t>(1, everyN)); e <= o.epochs; e += int(std::max<int64_t>(1, everyN)))
                o.reportAt.push_back(e);
            o.learningRate = rate;
            o.optimizer = p.value(optimizer).toStdString();
            o.batchSize = int(batchSize);
            o.seed = seed;
            auto curve = fineTuneAttack(*model, split, o, progress, evalLimit, observer);
            progress.finish();
            if (!curve)
                return fail(curve.error(), progress.cancelled() ? Cancelled : Failed);
            result = curveJson(*curve);
            if (attacked) {
                if (auto saved = attacked->save(p.value(outModel).toStdString(), {p.value(kModel).toStdString()});
                    !saved)
                    return fail(saved.error());
                result["out_model"] = p.value(outModel).toStdString();
            }
            result["optimizer"] = o.optimizer;
            result["learning_rate"] = o.learningRate;
            result["batch_size"] = o.batchSize;
            result["attacker_samples"] = split.attacker.size();
            result["holdout_samples"] = split.holdout.size();
            if (!p.isSet(kJson))
                printCurve(*curve, p.isSet(kCsv));
        } else {
            AdaptiveOptions o;
            o.variant = p.value(variant).toStdString();
            o.iterations = int(iterationCount);
            o.budget = budgetCount;
            auto r = adaptiveAttack(*model, split, o, key ? &*key : nullptr, progress, evalLimit);
            progress.finish();
            if (!r)
                return fail(r.error(), progress.cancelled() ? Cancelled : Failed);
            result = {{"attack", "adaptive"}, {"variant", r->variant}, {"accuracy_before", r->accuracyBefore},
                {"accuracy_after", r->accuracyAfter}, {"weights_changed", r->weightsChanged},
                {"secret_hits", r->secretHits}, {"secret_positions", r->secretPositions}, {"seconds", r->seconds}};
            if (p.isSet(kCsv))
                out() << "attack,variant,accuracy_before,accuracy_after,weights_changed,secret_hits,secret_positions\n"
                      << "adaptive," << QString::fromStdString(r->variant) << ',' << r->accuracyBefore << ','
                      << r->accuracyAfter << ',' << r->weightsChanged << ',' << r->secretHits << ','
                      << r->secretPositions << Qt::endl;
            else if (!p.isSet(kJson))
                out() << "adaptive attack (" << QString::fromStdString(r->variant)
                      << "): " << percentString(r->accuracyBefore) << " -> " << percentString(r->accuracyAfter) << ", "
                      << r->weightsChanged << " weights changed"
                      << (r->secretHits >= 0 ? QStringLiteral(", %1 of %2 secret positions hit")
                                                   .arg(r->secretHits)
                                                   .arg(r->secretPositions)
                                             : QString())
                      << Qt::endl;
        }
    } else {
        auto list = numberList(p.value(what == QLatin1String("prune") ? rates : percentiles),
            what == QLatin1String("prune") ? "rates" : "percentiles");
        if (!list)
            return fail(list.error(), Usage);
        auto curve = what == QLatin1String("prune")
            ? pruningAttack(*model, *test, *list, !p.isSet(layerwise), progress, evalLimit, observer)
            : normClipAttack(*model, *test, *list, progress, evalLimit);
        progress.finish();
        if (!curve)
            return fail(curve.error(), progress.cancelled() ? Cancelled : Failed);
        result = curveJson(*curve);
        if (!p.isSet(kJson))
            printCurve(*curve, p.isSet(kCsv));
    }
    if (p.isSet(kJson))
        out() << QString::fromStdString(result.dump(2)) << Qt::endl;
    return Ok;
}

} // namespace paramlock::cli
