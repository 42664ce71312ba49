#include "commands.h"

#include "cliutil.h"
#include "password.h"

#include "atomicfile.h"
#include "training.h"
#include "unlock.h"

#include <nlohmann/json.hpp>

#include <map>

namespace paramlock::cli {

using nlohmann::json;

int cmdVerify(const QStringList &args)
{
    const PasswordFlags password;
    QCommandLineParser p;
    int code = Usage;
    if (!parse(p, args, QStringLiteral("Tells whether a key fits a model (exit 0) or why not (exit 1)."),
            QList<QCommandLineOption>{kModel, kKey, kJson} + password.all(), code))
        return code;
    if (!p.isSet(kKey))
        return fail("--model and --key are required", Usage);
    auto model = openModel(p);
    if (!model)
        return fail(model.error());
    auto key = openKeyFromCli(p.value(kKey).toStdString(), p, password);
    if (!key)
        return fail(key.error());
    const KeyFit fit = checkKey(*model, *key);
    static const std::map<KeyFit::State, const char *> names = {{KeyFit::State::Fits, "fits"},
        {KeyFit::State::AlreadyUnlocked, "already-unlocked"}, {KeyFit::State::OtherModel, "other-model"},
        {KeyFit::State::BadEntries, "bad-entries"}};
    if (p.isSet(kJson))
        out() << QString::fromStdString(json{{"fits", fit.fits()}, {"state", names.at(fit.state)},
            {"message", fit.message}, {"model_fingerprint", fit.modelFingerprint},
            {"key_locked_fingerprint", key->lockedFingerprint}, {"key_original_fingerprint", key->originalFingerprint},
            {"n_entries", key->secretCount}}.dump(2))
              << Qt::endl;
    else
        out() << QString::fromStdString(fit.message) << Qt::endl;
    return fit.fits() ? Ok : Failed;
}

} // namespace paramlock::cli
