// paramlock-cli fingerprint embed|add-user|remove-user|verify|owner|identify: user fingerprints
// (core/methods/fingerprint).
#include "commands.h"

#include "cliutil.h"
#include "password.h"

#include "atomicfile.h"
#include "fingerprint.h"
#include "text.h"
#include "training.h"
#include "unlock.h"

#include <QDir>
#include <QFileInfo>

#include <nlohmann/json.hpp>

namespace paramlock::cli {

using nlohmann::json;

namespace {

const QCommandLineOption kRegistry(QStringLiteral("registry"),
    QStringLiteral("The owner's fingerprint registry (plain or sealed)."), QStringLiteral("FILE"));
const QCommandLineOption kUser(
    QStringLiteral("user"), QStringLiteral("A user's name. Repeat for several users."), QStringLiteral("NAME"));
const QCommandLineOption kOutModel(
    QStringLiteral("out-model"), QStringLiteral("The fingerprinted model to write."), QStringLiteral("FILE"));
const QCommandLineOption kOutRegistry(
    QStringLiteral("out-registry"), QStringLiteral("The owner's registry to write."), QStringLiteral("FILE"));
const QCommandLineOption kForgeries(QStringLiteral("forgeries"),
    QStringLiteral("Forged fingerprints (random subsets never issued) to try (default 20)."), QStringLiteral("N"),
    QStringLiteral("20"));

std::vector<std::string> names(const QCommandLineParser &p, const QCommandLineOption &o)
{
    std::vector<std::string> out;
    for (const QString &v : p.values(o))
        out.push_back(v.toStdString());
    return out;
}

json detectionJson(const Detection &d)
{
    return json{{"who", d.who}, {"detection_rate", d.rate}, {"confidence", d.confidence}, {"images", d.images},
        {"accepted", d.accepted}};
}

/** Writes the models and the registry (sealed when a password is given), never over an input. */
Expected<bool> writeOutputs(const QCommandLineParser &p, const PasswordFlags &password,
    const FingerprintEmbedding &made, const std::vector<std::string> &modelPaths,
    const std::vector<std::string> &inputs)
{
    auto text = sealIfAsked(p, password, made.registry, "owner");
    if (!text)
        return Error{text.error()};
    WritingScope writing;
    LockResult first;
    first.locked = made.models.front();
    first.key = made.registry;
    if (auto saved = saveLock(first, modelPaths.front(), p.value(kOutRegistry).toStdString(), inputs, *text); !saved)
        return Error{saved.error()};
    for (size_t i = 1; i < made.models.size(); ++i)
        if (auto saved = made.models[i].save(modelPaths[i], inputs); !saved)
            return Error{saved.error()};
    return !text->empty();
}

Expected<void> checkOutputs(const std::vector<std::string> &outputs, const std::vector<std::string> &inputs)
{
    for (size_t i = 0; i < outputs.size(); ++i) {
        for (const std::string &in : inputs)
            if (samePath(outputs[i], in))
                return Error{"refusing to overwrite the input " + in + "; choose another output path"};
        for (size_t j = 0; j < i; ++j)
            if (samePath(outputs[i], outputs[j]))
                return Error{"two outputs name the same file " + outputs[i]};
    }
    return {};
}

int finish(
    const QCommandLineParser &p, const FingerprintEmbedding &made, const std::vector<std::string> &paths, bool sealed)
{
    for (const std::string &note : made.notes)
        err() << "note: " << QString::fromStdString(note) << Qt::endl;
    if (p.isSet(kJson)) {
        json users = json::array();
        for (size_t i = 0; i < made.decoded.users.size(); ++i) {
            const FingerprintUser &u = made.decoded.users[i];
            json j{{"user", u.id}, {"subset", u.subset}, {"removed", u.removed}};
            if (made.decoded.copies)
                j["model"] = paths[i];
            users.push_back(j);
        }
        out() << QString::fromStdString(json{{"seconds", made.seconds}, {"epochs", made.decoded.settings.epochs},
            {"mode", made.decoded.copies ? "copies" : "shared"}, {"models", paths},
            {"out_registry", p.value(kOutRegistry).toStdString()}, {"registry_sealed", sealed}, {"users", users},
            {"notes", made.notes}}.dump(2))
              << Qt::endl;
        return Ok;
    }
    out() << "Fine-tuned in " << QString::number(made.seconds, 'f', 1) << " s.\n";
    for (size_t i = 0; i < paths.size(); ++i)
        out() << "Wrote " << QString::fromStdString(paths[i])
              << (made.decoded.copies ? QString::fromStdString(" (" + made.decoded.users[i].id + "'s copy)")
                                      : QString())
              << '\n';
    out() << "Wrote " << p.value(kOutRegistry) << (sealed ? " (password-protected)" : "") << Qt::endl;
    if (!sealed)
        err() << "warning: the registry is written without a password; it holds the owner's secret (use "
                 "--password, --password-file or --password-env)"
              << Qt::endl;
    return Ok;
}

int embedCommand(const QStringList &args)
{
    const ParameterFlags settings(fingerprintMethod());
    const PasswordFlags password(QString(), QStringLiteral("the registry"));
    const QCommandLineOption copies(QStringLiteral("copies"),
        QStringLiteral("Tracing: write one copy of the model per user into DIR (DIR/NAME.pt), each answering only "
                       "that user's fingerprint, so that a leaked copy names its licensee."),
        QStringLiteral("DIR"));
    QCommandLineParser p;
    int code = Usage;
    QList<QCommandLineOption> options = {kModel, kData, kSeed, kInputMean, kInputStd, kNumClasses, kThreads, kQuiet,
        kJson, kUser, copies, kOutModel, kOutRegistry, kKdf};
    options += settings.options;
    options += password.all();
    if (!parse(p, args,
            QStringLiteral("Embeds user fingerprints: fine-tunes a copy of the model so that each registered user's "
                           "fingerprint and the owner's trigger lead to the target class (one model for every user, "
                           "or with --copies one copy per user), and writes the owner's registry."),
            options, code))
        return code;
    applyThreads(p);
    int64_t seed = 0;
    if (auto e = integer(p, kSeed, seed))
        return fail(*e, Usage);
    if (!p.isSet(kUser))
        return fail("register at least one user, e.g. --user alice", Usage);
    if (!p.isSet(kOutRegistry) || p.isSet(copies) == p.isSet(kOutModel))
        return fail("give --out-registry and either --out-model (one model for every user) or --copies DIR (one "
                    "copy per user)",
            Usage);
    auto values = settings.read(p);
    if (!values)
        return fail(values.error(), Usage);
    auto s = fingerprintSettings(*values);
    if (!s)
        return fail(s.error(), Usage);
    s->seed = uint64_t(seed);
    const std::vector<std::string> users = names(p, kUser);
    std::vector<std::string> paths;
    if (p.isSet(copies)) {
        const QDir dir(p.value(copies));
        if (!dir.exists())
            return fail("the folder " + p.value(copies).toStdString() + " does not exist; create it first", Usage);
        for (const std::string &u : users)
            paths.push_back(dir.filePath(QString::fromStdString(u + ".pt")).toStdString());
    } else {
        paths.push_back(p.value(kOutModel).toStdString());
    }
    const std::vector<std::string> inputs = {p.value(kModel).toStdString(), p.value(kData).toStdString()};
    std::vector<std::string> outputs = paths;
    outputs.push_back(p.value(kOutRegistry).toStdString());
    if (auto ok = checkOutputs(outputs, inputs); !ok)
        return fail(ok.error(), Usage);
    CliProgress progress(p.isSet(kQuiet));
    auto in = openLockInputs(p, progress, code);
    if (!in)
        return code;
    FingerprintEmbedding made;
    {
        ProgressScope scope(progress);
        auto result = embedFingerprints(in->model, in->train, *s, users, p.isSet(copies), progress);
        if (!result)
            return fail(result.error() + "; nothing was written", progress.cancelled() ? Cancelled : Failed);
        made = std::move(*result);
    }
    progress.finish();
    auto sealed = writeOutputs(p, password, made, paths, inputs);
    if (!sealed)
        return fail(sealed.error());
    return finish(p, made, paths, *sealed);
}

int updateCommand(const QStringList &args, bool adding)
{
    const PasswordFlags owner(QString(), QStringLiteral("the registry"));
    const PasswordFlags fresh(QStringLiteral("new-"), QStringLiteral("the new registry"));
    const QCommandLineOption epochs(QStringLiteral("update-epochs"),
        QStringLiteral("Fine-tuning epochs of this update (default: the registry's, 3 unless set at embed)."),
        QStringLiteral("N"), QStringLiteral("0"));
    QCommandLineParser p;
    int code = Usage;
    QList<QCommandLineOption> options = {kModel, kData, kRegistry, kInputMean, kInputStd, kNumClasses, kThreads, kQuiet,
        kJson, kUser, epochs, kOutModel, kOutRegistry, kKdf};
    options += owner.all();
    options += fresh.all();
    if (!parse(p, args,
            adding ? QStringLiteral("Registers new users in a fingerprinted model by a short fine-tune; writes a new "
                                    "model and a new registry.")
                   : QStringLiteral("Removes users from a fingerprinted model by a short fine-tune (their fingerprint "
                                    "stops being accepted); writes a new model and a new registry."),
            options, code))
        return code;
    applyThreads(p);
    int64_t epochCount = 0;
    if (auto e = integer(p, epochs, epochCount))
        return fail(*e, Usage);
    if (epochCount < 0 || epochCount > 1000)
        return fail("--update-epochs must be between 1 and 1000", Usage);
    if (!p.isSet(kRegistry) || !p.isSet(kUser) || !p.isSet(kOutModel) || !p.isSet(kOutRegistry))
        return fail("--registry, --user, --out-model and --out-registry are required", Usage);
    const std::vector<std::string> inputs = {
        p.value(kModel).toStdString(), p.value(kData).toStdString(), p.value(kRegistry).toStdString()};
    const std::vector<std::string> paths = {p.value(kOutModel).toStdString()};
    if (auto ok = checkOutputs({paths[0], p.value(kOutRegistry).toStdString()}, inputs); !ok)
        return fail(ok.error(), Usage);
    auto registry = openKeyFromCli(p.value(kRegistry).toStdString(), p, owner);
    if (!registry)
        return fail(registry.error());
    CliProgress progress(p.isSet(kQuiet));
    auto in = openLockInputs(p, progress, code);
    if (!in)
        return code;
    FingerprintEmbedding made;
    {
        ProgressScope scope(progress);
        const std::vector<std::string> who = names(p, kUser), none;
        auto result = updateFingerprints(
            in->model, *registry, in->train, adding ? who : none, adding ? none : who, progress, int(epochCount));
        if (!result)
            return fail(result.error() + "; nothing was written", progress.cancelled() ? Cancelled : Failed);
        made = std::move(*result);
    }
    progress.finish();
    auto sealed = writeOutputs(p, fresh, made, paths, inputs);
    if (!sealed)
        return fail(sealed.error());
    return finish(p, made, paths, *sealed);
}

int addUserCommand(const QStringList &args)
{
    return updateCommand(args, true);
}

int removeUserCommand(const QStringList &args)
{
    return updateCommand(args, false);
}

enum class Check { Verify, Owner, Identify };

int checkCommand(const QStringList &args, Check check)
{
    const PasswordFlags password(QString(), QStringLiteral("the registry"));
    QCommandLineParser p;
    int code = Usage;
    const QString what = check == Check::Verify
        ? QStringLiteral("Authenticates users on a model: each user's detection rate (the share of their 10 "
                         "fingerprint images answered with the target class), accepted at the registry's threshold, "
                         "beside forged fingerprints.")
        : check == Check::Owner
        ? QStringLiteral("Verifies ownership of a suspect model: the owner's trigger on the registry's 100 carrier "
                         "images, its detection rate and confidence.")
        : QStringLiteral("Names the licensee whose copy a leaked model is: every user's fingerprint on the 100 "
                         "carrier images, the highest accepted one, and its margin to the runner-up.");
    if (!parse(p, args, what,
            QList<QCommandLineOption>{
                kModel, kRegistry, kUser, kForgeries, kInputMean, kInputStd, kNumClasses, kThreads, kJson}
                + password.all(),
            code))
        return code;
    applyThreads(p);
    int64_t forgeries = 0;
    if (auto e = integer(p, kForgeries, forgeries))
        return fail(*e, Usage);
    if (!p.isSet(kRegistry))
        return fail("--registry is required", Usage);
    auto registry = openKeyFromCli(p.value(kRegistry).toStdString(), p, password);
    if (!registry)
        return fail(registry.error());
    auto model = openModel(p);
    if (!model)
        return fail(model.error());
    if (auto ok = completeMetadata(*model, p, nullptr); !ok)
        return fail(ok.error(), Usage);
    auto report = checkFingerprints(*model, *registry, check == Check::Verify ? int(forgeries) : 0);
    if (!report)
        return fail(p.value(kRegistry).toStdString() + ": " + report.error());
    const std::vector<std::string> only = names(p, kUser);
    auto wanted = [&](const Detection &d) {
        if (only.empty())
            return true;
        for (const std::string &id : only)
            if (d.who == id || d.who == id + " (removed)")
                return true;
        return false;
    };
    json j{{"model_fingerprint", report->modelFingerprint}, {"matches", report->matches}};
    if (check == Check::Owner)
        j["owner"] = detectionJson(report->owner);
    if (check == Check::Verify) {
        json users = json::array(), forged = json::array();
        for (const Detection &d : report->users)
            if (wanted(d))
                users.push_back(detectionJson(d));
        double best = 0.0, sum = 0.0;
        int64_t accepted = 0;
        for (const Detection &d : report->forged) {
            forged.push_back(detectionJson(d));
            best = std::max(best, d.rate);
            sum += d.rate;
            accepted += d.accepted;
        }
        j["users"] = users;
        j["forged"] = forged;
        j["best_forged_rate"] = best;
        j["mean_forged_rate"] = report->forged.empty() ? 0.0 : sum / double(report->forged.size());
        j["forged_accepted"] = accepted;
        if (users.empty())
            return fail("the registry has no user named " + only.front(), Usage);
    }
    if (check == Check::Identify) {
        json traced = json::array();
        for (const Detection &d : report->traced)
            traced.push_back(detectionJson(d));
        j["traced"] = traced;
        j["identified"] = report->identified;
        j["margin"] = report->margin;
        j["false_accusation_log10"] = report->falseAccusationLog10;
    }
    if (p.isSet(kJson)) {
        out() << QString::fromStdString(j.dump(2)) << Qt::endl;
        return Ok;
    }
    if (!report->matches.empty())
        out() << "The model is bit for bit " << QString::fromStdString(report->matches) << ".\n";
    auto line = [&](const Detection &d) {
        out() << "  " << QString::fromStdString(d.who).leftJustified(18) << " "
              << QString::fromStdString(percentText(d.rate, 0)).rightJustified(5) << " of " << d.images
              << " images, confidence " << QString::fromStdString(percentText(d.confidence, 1))
              << (d.accepted ? "  accepted" : "") << '\n';
    };
    if (check == Check::Owner) {
        out() << "Owner's trigger:\n";
        line(report->owner);
        out() << (report->owner.accepted ? "Ownership verified.\n" : "Ownership NOT verified at this threshold.\n");
    } else if (check == Check::Verify) {
        out() << "User fingerprints:\n";
        for (const Detection &d : report->users)
            if (wanted(d))
                line(d);
        out() << report->forged.size() << " forged fingerprints: mean detection "
              << QString::fromStdString(percentText(j["mean_forged_rate"].get<double>(), 1)) << ", best "
              << QString::fromStdString(percentText(j["best_forged_rate"].get<double>(), 0)) << ", "
              << j["forged_accepted"].get<int64_t>() << " accepted\n";
    } else {
        out() << "Every user's fingerprint on the carrier images:\n";
        for (const Detection &d : report->traced)
            line(d);
        if (report->identified.empty())
            out() << "No user's fingerprint is accepted: the model is none of the registered copies, or it was "
                     "changed too much to tell.\n";
        else
            out() << "Identified: " << QString::fromStdString(report->identified) << " (margin "
                  << QString::number(100.0 * report->margin, 'f', 0)
                  << " points to the runner-up; a copy made for anyone else shows as many hits with a chance "
                  << QString::fromStdString(chanceBelowText(report->falseAccusationLog10)) << ").\n";
    }
    out().flush();
    return Ok;
}

int verifyCommand(const QStringList &args)
{
    return checkCommand(args, Check::Verify);
}

int ownerCommand(const QStringList &args)
{
    return checkCommand(args, Check::Owner);
}

int identifyCommand(const QStringList &args)
{
    return checkCommand(args, Check::Identify);
}

} // namespace

int cmdFingerprint(const QStringList &args)
{
    return runSubcommand(QStringLiteral("fingerprint"), args,
        {{"embed", embedCommand}, {"add-user", addUserCommand}, {"remove-user", removeUserCommand},
            {"verify", verifyCommand}, {"owner", ownerCommand}, {"identify", identifyCommand}},
        QStringLiteral("Usage: paramlock-cli fingerprint embed|add-user|remove-user|verify|owner|identify [options]\n"
                       "  embed        fine-tune fingerprints into a model (one for all users, or --copies: one per "
                       "user); writes the owner's registry\n"
                       "  add-user     register users by a short fine-tune\n"
                       "  remove-user  remove users by a short fine-tune\n"
                       "  verify       authenticate users: each user's detection rate, and forged fingerprints\n"
                       "  owner        verify ownership of a suspect model with the owner's trigger\n"
                       "  identify     name the licensee whose copy leaked\n"
                       "Run 'paramlock-cli fingerprint ACTION --help' for its options.\n"));
}

} // namespace paramlock::cli
