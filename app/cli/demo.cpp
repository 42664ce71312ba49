#include "commands.h"

#include "cliutil.h"
#include "lockoutput.h"
#include "methodflags.h"

#include "training.h"
#include "unlock.h"

#include <QDir>

namespace paramlock::cli {

int cmdDemo(const QStringList &args)
{
    const MethodFlags flags;
    const QCommandLineOption outDir(QStringLiteral("out-dir"),
        QStringLiteral("Folder for the locked model and key (default: paramlock-demo)."), QStringLiteral("DIR"),
        QStringLiteral("paramlock-demo"));
    QCommandLineParser p;
    int code = Usage;
    QList<QCommandLineOption> options = {
        kModel, kData, kSeed, kEvalSamples, kThreads, kQuiet, kJson, kAllowUntrained, outDir};
    options += flags.options();
    if (!parse(p, args,
            QStringLiteral("Locks the shipped LeNet-5 on real Fashion-MNIST with the default method at its defaults "
                           "(every lock setting can be changed, e.g. --mode paper), then unlocks it."),
            options, code))
        return code;
    applyThreads(p);
    const DemoOptions demo = demoOptions();
    auto choice = flags.read(p);
    if (!choice)
        return fail(choice.error(), Usage);
    int64_t evalLimit = 0;
    if (auto e = integer(p, kEvalSamples, evalLimit))
        return fail(*e, Usage);
    const QString modelPath = p.isSet(kModel) ? p.value(kModel) : QString::fromStdString(demo.modelPath);
    if (modelPath.isEmpty())
        return fail("the shipped demo model (models/lenet5-fmnist.pt) was not found; set PARAMLOCK_RESOURCES");
    const std::string dataPath = p.isSet(kData) ? p.value(kData).toStdString() : demo.dataset;

    const bool quiet = p.isSet(kQuiet);
    if (!quiet && !p.isSet(kJson))
        out() << "ParamLock demo: locking " << modelPath << " on " << QString::fromStdString(dataPath) << "\n"
              << describeRequest(*choice->method, choice->request) << "\n"
              << Qt::endl;
    auto model = Model::load(modelPath.toStdString());
    if (!model)
        return fail(model.error());
    CliProgress progress(quiet);
    progress.advance(0.0, "reading " + dataPath);
    auto train = loadDataset(dataPath, Split::Train);
    if (!train)
        return fail(train.error());
    auto test = loadDataset(dataPath, Split::Test);
    progress.finish();
    if (!test)
        return fail(test.error());
    auto outcome = lockWithProgress(*model, *train, *test, *choice, workflowOptions(p, evalLimit), progress);
    if (!outcome)
        return fail(outcome.error(), progress.cancelled() ? Cancelled : Failed);
    if (outcome->weak() && !demo.acceptWeak)
        return fail("weak lock: " + outcome->weakness);
    auto restored = unlockModel(outcome->result.locked, outcome->result.key);
    if (!restored)
        return fail(restored.error());
    EvaluationOptions eval;
    eval.limit = evalLimit;
    auto unlocked = evaluate(*restored, *test, eval, &progress);
    progress.finish();
    if (!unlocked)
        return fail(unlocked.error());
    const bool match = restored->fingerprint() == outcome->result.key.originalFingerprint
        && restored->fingerprint() == model->fingerprint();

    const QDir dir(p.value(outDir));
    if (!dir.exists() && !QDir().mkpath(dir.path()))
        return fail("cannot create the output folder " + dir.path().toStdString());
    const std::string lockedPath = dir.filePath(QStringLiteral("locked-model.pt")).toStdString();
    const std::string keyPath = dir.filePath(QStringLiteral("secret-key.json")).toStdString();
    const std::vector<std::string> inputs = {modelPath.toStdString()};
    WritingScope writing;
    if (auto saved = saveLock(outcome->result, lockedPath, keyPath, inputs); !saved)
        return fail(saved.error());

    if (p.isSet(kJson)) {
        auto j = lockJson(*outcome);
        j["accuracy_unlocked"] = unlocked->accuracy;
        j["fingerprint_match"] = match;
        j["out_model"] = lockedPath;
        j["out_key"] = keyPath;
        out() << QString::fromStdString(j.dump(2)) << Qt::endl;
    } else {
        printLockSummary(*outcome);
        out() << "\nTest accuracy on " << unlocked->total << " " << QString::fromStdString(test->name)
              << " test images:\n"
              << "  original model   " << percentString(outcome->accuracyBefore) << "\n"
              << "  locked model     " << percentString(outcome->accuracyAfter)
              << "   (random guess: " << percentString(outcome->randomGuess) << ")\n"
              << "  unlocked model   " << percentString(unlocked->accuracy) << "   (fingerprint "
              << (match ? "matches the original bit for bit" : "DOES NOT match") << ")\n\n"
              << "Wrote " << QString::fromStdString(lockedPath) << " and " << QString::fromStdString(keyPath)
              << Qt::endl;
        if (outcome->weak())
            out() << "\nThis lock is weak: " << QString::fromStdString(outcome->weakness)
                  << ".\n`paramlock-cli lock` refuses such a lock unless told --allow-weak." << Qt::endl;
    }
    return match ? Ok : Failed;
}

} // namespace paramlock::cli
