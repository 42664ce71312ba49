#include "commands.h"

#include "cliutil.h"
#include "password.h"

#include "atomicfile.h"

#include <nlohmann/json.hpp>

namespace paramlock::cli {

using nlohmann::json;

namespace {

void printInfo(const std::string &path, const KeyFileInfo &i)
{
    out() << QString::fromStdString(path) << "\n"
          << "  Protection:      "
          << (i.sealed ? QStringLiteral("password (%1)").arg(QString::fromStdString(i.kdf))
                       : QStringLiteral("none - anyone who reads this file can unlock the model"))
          << "\n";
    if (i.sealed)
        out() << "  Issued to:       " << QString::fromStdString(i.recipient.empty() ? "(no name)" : i.recipient)
              << "\n"
              << "  Key id:          " << QString::fromStdString(i.keyId) << " (issued "
              << QString::fromStdString(i.issuedAt) << ")\n";
    out() << "  Method:          " << QString::fromStdString(i.method)
          << (i.mode.empty() ? QString() : QStringLiteral(", mode ") + QString::fromStdString(i.mode)) << "\n"
          << "  Locked model:    " << QString::fromStdString(i.lockedFingerprint) << "\n"
          << "  Original model:  " << QString::fromStdString(i.originalFingerprint) << "\n"
          << "  Encrypted:       " << i.entryCount << " weights of " << i.parameterCount << "\n"
          << "  Created:         " << QString::fromStdString(i.createdAt) << " by "
          << QString::fromStdString(i.createdBy) << Qt::endl;
}

json infoJson(const std::string &path, const KeyFileInfo &i)
{
    return {{"file", path}, {"sealed", i.sealed}, {"recipient", i.recipient}, {"key_id", i.keyId},
        {"issued_at", i.issuedAt}, {"kdf", i.kdf}, {"method", i.method}, {"mode", i.mode},
        {"fingerprint_locked", i.lockedFingerprint}, {"fingerprint_original", i.originalFingerprint},
        {"n_entries", i.entryCount}, {"n_params", i.parameterCount}, {"created_at", i.createdAt},
        {"created_by", i.createdBy}};
}

int keyInfo(const QStringList &args)
{
    QCommandLineParser p;
    int code = Usage;
    p.addPositionalArgument(
        QStringLiteral("FILE"), QStringLiteral("Key files to describe."), QStringLiteral("FILE..."));
    if (!parse(p, args,
            QStringLiteral("Describes key files without unlocking anything or asking for passwords: protection, "
                           "recipient, the model they belong to."),
            {kJson}, code, true))
        return code;
    const QStringList files = p.positionalArguments();
    if (files.isEmpty())
        return fail("name at least one key file", Usage);
    json list = json::array();
    int result = Ok;
    for (const QString &f : files) {
        const std::string path = f.toStdString();
        auto text = readWholeFile(path);
        auto info = text ? inspectKey(*text) : Expected<KeyFileInfo>(Error{text.error()});
        if (!info) {
            result = fail(text ? path + ": " + info.error() : info.error());
            continue;
        }
        if (p.isSet(kJson))
            list.push_back(infoJson(path, *info));
        else
            printInfo(path, *info);
    }
    if (p.isSet(kJson))
        out() << QString::fromStdString(list.dump(2)) << Qt::endl;
    return result;
}

int keyIssue(const QStringList &args)
{
    const QCommandLineOption key({QStringLiteral("k"), QStringLiteral("key")},
        QStringLiteral("The owner's key (plain or sealed)."), QStringLiteral("FILE"));
    const QCommandLineOption recipient(QStringLiteral("recipient"),
        QStringLiteral("Whom the key is for (shown by 'key info')."), QStringLiteral("NAME"));
    const QCommandLineOption outFile({QStringLiteral("o"), QStringLiteral("out")},
        QStringLiteral("The recipient's key file to write."), QStringLiteral("FILE"));
    const PasswordFlags owner;
    const PasswordFlags theirs(QStringLiteral("recipient-"), QStringLiteral("the recipient's new key"));
    QCommandLineParser p;
    int code = Usage;
    if (!parse(p, args,
            QStringLiteral("Issues a password-protected key to one licensee from the owner's key. Each licensee "
                           "gets their own file and password; revoking means re-locking the model."),
            QList<QCommandLineOption>{key, recipient, outFile, kKdf} + owner.all() + theirs.all(), code))
        return code;
    if (!p.isSet(key) || !p.isSet(outFile) || !p.isSet(recipient))
        return fail("--key, --recipient and --out are required", Usage);
    const std::string outPath = p.value(outFile).toStdString();
    if (samePath(outPath, p.value(key).toStdString()))
        return fail("refusing to overwrite the owner's key; choose another --out", Usage);
    auto strength = KdfStrength::named(p.value(kKdf).toStdString());
    if (!strength)
        return fail(strength.error(), Usage);
    auto master = openKeyFromCli(p.value(key).toStdString(), p, owner);
    if (!master)
        return fail(master.error());
    auto password = theirs.read(p, true);
    if (!password)
        return fail(password.error(), Usage);
    auto sealed = sealKey(*master, *password, p.value(recipient).toStdString(), *strength);
    wipe(*password);
    if (!sealed)
        return fail(sealed.error());
    if (auto saved = writeFileAtomically(outPath, *sealed, {p.value(key).toStdString()}); !saved)
        return fail(saved.error());
    out() << "Issued " << QString::fromStdString(outPath) << " to " << p.value(recipient) << Qt::endl;
    return Ok;
}

} // namespace

int cmdKey(const QStringList &args)
{
    return runSubcommand(QStringLiteral("key"), args, {{"info", keyInfo}, {"issue", keyIssue}},
        QStringLiteral("Usage: paramlock-cli key info FILE... | key issue --key OWNER --recipient NAME --out FILE\n"
                       "  info   describe key files without unlocking (protection, recipient, model)\n"
                       "  issue  write a password-protected key for one licensee\n"));
}

} // namespace paramlock::cli
