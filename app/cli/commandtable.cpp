#include "commands.h"

#include "cliutil.h"

#include <vector>

namespace paramlock::cli {

namespace {

struct Command
{
    const char *name;
    const char *summary;
    int (*run)(const QStringList &);
};

const std::vector<Command> &commands()
{
    static const std::vector<Command> list = {
        {"demo", "lock and unlock the shipped model on real Fashion-MNIST", cmdDemo},
        {"info", "list a model's conv/FC layers, shapes, parameter counts and weight ranges", cmdInfo},
        {"train", "train a zoo model with the AdvParams paper's recipe", cmdTrain},
        {"evaluate", "measure test accuracy", cmdEvaluate},
        {"lock", "lock a model: write the locked model and the secret key", cmdLock},
        {"unlock", "restore the original model with its key", cmdUnlock},
        {"verify", "tell whether a key fits a model", cmdVerify},
        {"experiment", "AdvParams' sweeps: accuracy vs T_loss, per locked layer, vs n_e", cmdExperiment},
        {"attack", "attack a locked model: fine-tuning, pruning, adaptive, norm clipping, detection", cmdAttack},
        {"key", "describe key files (key info) and issue password-protected keys to licensees (key issue)", cmdKey},
        {"licence", "SecureNet licences: license a model (licence lock), issue, re-key, check, info", cmdLicence},
        {"fingerprint", "user fingerprints: embed, add or remove users, verify, prove ownership, trace a leak",
            cmdFingerprint},
        {"run", "unlock in memory and classify images; nothing unlocked is written", cmdRun},
        {"frontier", "compare every lock on one model: weights changed, what a thief gains, stealth", cmdFrontier},
        {"report", "lock in memory, run the attacks and write an HTML + PDF report (no key material)", cmdReport},
    };
    return list;
}

} // namespace

QString commandSummary()
{
    QString text;
    for (const auto &c : commands())
        text += QStringLiteral("  %1 %2\n").arg(QLatin1String(c.name), -10).arg(QLatin1String(c.summary));
    return text;
}

int runCommand(const QString &command, const QStringList &args)
{
    for (const auto &c : commands())
        if (command == QLatin1String(c.name))
            return c.run(args);
    return fail("unknown command \"" + command.toStdString() + "\"; run 'paramlock-cli --help'", Usage);
}

} // namespace paramlock::cli
