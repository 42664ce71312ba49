#include "commands.h"

#include "cliutil.h"
#include "lockoutput.h"
#include "methodflags.h"
#include "password.h"

#include "atomicfile.h"
#include "sealedkey.h"
#include "unlock.h"

namespace paramlock::cli {

int cmdLock(const QStringList &args)
{
    const MethodFlags flags;
    const QCommandLineOption outModel(
        QStringLiteral("out-model"), QStringLiteral("Locked model to write."), QStringLiteral("FILE"));
    const QCommandLineOption outKey(
        QStringLiteral("out-key"), QStringLiteral("Secret key to write (JSON)."), QStringLiteral("FILE"));
    const PasswordFlags password;
    const QCommandLineOption recipient(QStringLiteral("recipient"),
        QStringLiteral("Name of whom the password-protected key is for (shown by 'key info')."),
        QStringLiteral("NAME"));
    QCommandLineParser p;
    int code = Usage;
    QList<QCommandLineOption> options = {kModel, kData, kSeed, kInputMean, kInputStd, kNumClasses, kEvalSamples,
        kThreads, kQuiet, kJson, outModel, outKey, recipient, kKdf, kAllowWeak, kAllowUntrained};
    options += flags.options();
    options += password.all();
    if (!parse(p, args,
            QStringLiteral("Locks a model: writes the locked model and the secret key. A lock that stays above "
                           "1.2 x random guess on the test set is refused (exit 1, nothing written) unless "
                           "--allow-weak is given."),
            options, code))
        return code;
    applyThreads(p);
    if (!p.isSet(outModel) || !p.isSet(outKey))
        return fail("--out-model and --out-key are required", Usage);
    auto choice = flags.read(p);
    if (!choice)
        return fail(choice.error(), Usage);
    int64_t evalLimit = 0;
    if (auto e = integer(p, kEvalSamples, evalLimit))
        return fail(*e, Usage);
    const std::string modelPath = p.value(kModel).toStdString();
    const std::string modelOut = p.value(outModel).toStdString();
    const std::string keyOut = p.value(outKey).toStdString();
    if (samePath(modelOut, keyOut))
        return fail("--out-model and --out-key name the same file", Usage);
    for (const auto &o : {modelOut, keyOut})
        if (samePath(o, modelPath))
            return fail("refusing to overwrite the input model " + modelPath + "; choose another output path", Usage);
    auto strength = KdfStrength::named(p.value(kKdf).toStdString());
    if (!strength)
        return fail(strength.error(), Usage);
    std::string keyPassword;
    if (password.given(p)) {
        auto read = password.read(p, true);
        if (!read)
            return fail(read.error(), Usage);
        keyPassword = std::move(*read);
    } else if (!p.isSet(kJson)) {
        err() << "warning: the key is written without a password; anyone who reads " << QString::fromStdString(keyOut)
              << " can unlock the model (use --password, --password-file or --password-env)" << Qt::endl;
    }

    CliProgress progress(p.isSet(kQuiet));
    auto inputs = openLockInputs(p, progress, code);
    if (!inputs)
        return code;
    auto &[model, train, test] = *inputs;
    WorkflowOptions workflow = workflowOptions(p, evalLimit);
    // The model read from the file is locked itself: no second copy of the weights (the file stays as it was).
    workflow.inPlace = true;
    auto outcome = lockWithProgress(model, train, test, *choice, workflow, progress);
    if (!outcome)
        return fail(outcome.error() + "; nothing was written", progress.cancelled() ? Cancelled : Failed);
    if (outcome->weak() && !p.isSet(kAllowWeak)) {
        wipe(keyPassword);
        return fail("weak lock: " + outcome->weakness + "; nothing was written (pass --allow-weak to keep it)");
    }
    warnWeak(*outcome, QString());
    const std::vector<std::string> inputFiles = {modelPath, p.value(kData).toStdString()};
    std::string keyText;
    if (!keyPassword.empty()) {
        auto sealed = sealKey(outcome->result.key, keyPassword, p.value(recipient).toStdString(), *strength);
        wipe(keyPassword);
        if (!sealed)
            return fail(sealed.error() + "; nothing was written");
        keyText = std::move(*sealed);
    }
    WritingScope writing;
    if (auto saved = saveLock(outcome->result, modelOut, keyOut, inputFiles, keyText); !saved)
        return fail(saved.error());

    if (p.isSet(kJson)) {
        auto j = lockJson(*outcome);
        j["out_model"] = modelOut;
        j["out_key"] = keyOut;
        j["key_sealed"] = !keyText.empty();
        out() << QString::fromStdString(j.dump(2)) << Qt::endl;
    } else {
        printLockSummary(*outcome);
        out() << "Accuracy before:   " << percentString(outcome->accuracyBefore) << "\n"
              << "Accuracy locked:   " << percentString(outcome->accuracyAfter) << "\n"
              << "Wrote " << QString::fromStdString(modelOut) << " and " << QString::fromStdString(keyOut)
              << " (keep the key secret)" << Qt::endl;
    }
    return Ok;
}

} // namespace paramlock::cli
