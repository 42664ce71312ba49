#include "keycommands.h"

#include "atomicfile.h"
#include "cliutil.h"
#include "unlocked.h"

#include <nlohmann/json.hpp>

#include <QFile>

#include <cstdio>
#include <termios.h>

namespace paramlock::cli {

using nlohmann::json;

namespace {

/** Reads one line from the terminal with echo off; the process's stdin may be a pipe of images. */
Expected<std::string> promptPassword(const std::string &question)
{
    FILE *tty = std::fopen("/dev/tty", "r+");
    if (!tty)
        return Error{"the key needs a password and there is no terminal to ask on; give --password-file or "
                     "--password-env"};
    std::fputs(question.c_str(), tty);
    std::fflush(tty);
    termios saved{};
    const int fd = fileno(tty);
    const bool terminal = tcgetattr(fd, &saved) == 0;
    if (terminal) {
        termios quiet = saved;
        quiet.c_lflag &= ~tcflag_t(ECHO);
        tcsetattr(fd, TCSAFLUSH, &quiet);
    }
    std::string line;
    for (int c = std::fgetc(tty); c != EOF && c != '\n'; c = std::fgetc(tty))
        line.push_back(char(c));
    if (terminal)
        tcsetattr(fd, TCSAFLUSH, &saved);
    std::fputs("\n", tty);
    std::fclose(tty);
    return line;
}

std::string firstLine(std::string text)
{
    const size_t end = text.find_first_of("\r\n");
    if (end != std::string::npos) {
        std::string line = text.substr(0, end);
        wipe(text);
        return line;
    }
    return text;
}

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
    out() << "  Method, mode:    " << QString::fromStdString(i.method) << ", " << QString::fromStdString(i.mode) << "\n"
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
    const QCommandLineOption kdf(QStringLiteral("kdf"),
        QStringLiteral("Password stretching: interactive, moderate (default) or sensitive."), QStringLiteral("LEVEL"),
        QStringLiteral("moderate"));
    const PasswordFlags owner;
    const PasswordFlags theirs(QStringLiteral("recipient-"), QStringLiteral("the recipient's new key"));
    QCommandLineParser p;
    int code = Usage;
    if (!parse(p, args,
            QStringLiteral("Issues a password-protected key to one licensee from the owner's key. Each licensee "
                           "gets their own file and password; revoking means re-locking the model."),
            QList<QCommandLineOption>{key, recipient, outFile, kdf} + owner.all() + theirs.all(), code))
        return code;
    if (!p.isSet(key) || !p.isSet(outFile) || !p.isSet(recipient))
        return fail("--key, --recipient and --out are required", Usage);
    const std::string outPath = p.value(outFile).toStdString();
    if (samePath(outPath, p.value(key).toStdString()))
        return fail("refusing to overwrite the owner's key; choose another --out", Usage);
    auto strength = KdfStrength::named(p.value(kdf).toStdString());
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

PasswordFlags::PasswordFlags(const QString &prefix, const QString &whose)
    : prompt(
        prefix + QStringLiteral("password"), QStringLiteral("Ask for the password of %1 on the terminal.").arg(whose)),
      file(prefix + QStringLiteral("password-file"),
          QStringLiteral("Read the password of %1 from the first line of FILE.").arg(whose), QStringLiteral("FILE")),
      env(prefix + QStringLiteral("password-env"),
          QStringLiteral("Read the password of %1 from the environment variable VAR.").arg(whose),
          QStringLiteral("VAR"))
{ }

bool PasswordFlags::given(const QCommandLineParser &p) const
{
    return p.isSet(prompt) || p.isSet(file) || p.isSet(env);
}

Expected<std::string> PasswordFlags::read(const QCommandLineParser &p, bool confirm) const
{
    if (int(p.isSet(prompt)) + int(p.isSet(file)) + int(p.isSet(env)) > 1)
        return Error{"give the password one way: --" + prompt.names().first().toStdString() + ", --"
            + file.names().first().toStdString() + " or --" + env.names().first().toStdString()};
    std::string password;
    if (p.isSet(file)) {
        auto text = readWholeFile(p.value(file).toStdString());
        if (!text)
            return Error{"password file: " + text.error()};
        password = firstLine(std::move(*text));
    } else if (p.isSet(env)) {
        const QByteArray name = p.value(env).toLocal8Bit();
        const char *value = std::getenv(name.constData());
        if (!value)
            return Error{"the environment variable " + name.toStdString() + " is not set"};
        password = value;
    } else {
        auto first = promptPassword("Password: ");
        if (!first)
            return first;
        password = std::move(*first);
        if (confirm) {
            auto second = promptPassword("Repeat the password: ");
            if (!second)
                return second;
            const bool same = *second == password;
            wipe(*second);
            if (!same) {
                wipe(password);
                return Error{"the two passwords differ; nothing was written"};
            }
        }
    }
    if (password.empty())
        return Error{"the password is empty"};
    return password;
}

Expected<SecretKey> openKeyFromCli(const std::string &path, const QCommandLineParser &p, const PasswordFlags &flags)
{
    auto text = readWholeFile(path);
    if (!text)
        return Error{text.error()};
    if (!isSealedKey(*text)) {
        OpenedKey opened = openKey(*text);
        if (!opened.ok())
            return Error{path + ": " + opened.message};
        return std::move(opened.key);
    }
    if (!flags.given(p) && isatty(STDIN_FILENO) == 0)
        return Error{path + ": the key is password-protected; give --password-file or --password-env"};
    auto password = flags.read(p, false);
    if (!password)
        return Error{password.error()};
    OpenedKey opened = openKey(*text, *password);
    wipe(*password);
    if (!opened.ok())
        return Error{path + ": " + opened.message};
    return std::move(opened.key);
}

int cmdKey(const QStringList &args)
{
    const QString action = args.size() > 1 ? args.at(1) : QString();
    QStringList rest = args;
    if (rest.size() > 1) {
        rest.removeAt(1);
        rest[0] += QLatin1Char(' ') + action;
    }
    if (action == QLatin1String("info"))
        return keyInfo(rest);
    if (action == QLatin1String("issue"))
        return keyIssue(rest);
    if (action == QLatin1String("--help") || action == QLatin1String("-h")) {
        out() << "Usage: paramlock-cli key info FILE... | key issue --key OWNER --recipient NAME --out FILE\n"
                 "  info   describe key files without unlocking (protection, recipient, model)\n"
                 "  issue  write a password-protected key for one licensee\n";
        return Ok;
    }
    return fail("'key' needs an action: info or issue (see 'paramlock-cli key --help')", Usage);
}

int cmdRun(const QStringList &args)
{
    const QCommandLineOption key({QStringLiteral("k"), QStringLiteral("key")},
        QStringLiteral("Secret key file (plain or password-protected)."), QStringLiteral("FILE"));
    const QCommandLineOption input(QStringLiteral("input"),
        QStringLiteral("Input size C,H,W for models that do not record it (e.g. 1,28,28)."), QStringLiteral("C,H,W"));
    const PasswordFlags password;
    QCommandLineParser p;
    int code = Usage;
    p.addPositionalArgument(QStringLiteral("IMAGE"), QStringLiteral("Images to classify."), QStringLiteral("IMAGE..."));
    if (!parse(p, args,
            QStringLiteral("Unlocks a model in memory and classifies images with it; the unlocked weights never touch "
                           "the disk."),
            QList<QCommandLineOption>{kModel, key, input, kThreads, kJson} + password.all(), code, true))
        return code;
    applyThreads(p);
    const QStringList images = p.positionalArguments();
    if (!p.isSet(kModel) || !p.isSet(key))
        return fail("--model and --key are required", Usage);
    if (images.isEmpty())
        return fail("name at least one image to classify", Usage);
    auto opened = openKeyFromCli(p.value(key).toStdString(), p, password);
    if (!opened)
        return fail(opened.error());
    auto locked = openModel(p);
    if (!locked)
        return fail(locked.error());
    auto model = UnlockedModel::unlock(*locked, *opened);
    if (!model)
        return fail(model.error());
    if (p.isSet(input)) {
        const QStringList parts = p.value(input).split(QLatin1Char(','));
        int64_t c = 0, h = 0, w = 0;
        if (parts.size() != 3 || !toInt64(parts[0], c) || !toInt64(parts[1], h) || !toInt64(parts[2], w) || c < 1
            || h < 1 || w < 1)
            return fail("--input expects C,H,W, e.g. 1,28,28", Usage);
        model->setInputShape(int(c), int(h), int(w));
    }
    std::vector<std::string> paths;
    for (const QString &i : images)
        paths.push_back(i.toStdString());
    auto classes = model->classifyFiles(paths);
    if (!classes)
        return fail(classes.error());
    if (p.isSet(kJson)) {
        json list = json::array();
        for (const Classification &c : *classes)
            list.push_back(
                {{"image", c.source}, {"class", c.label}, {"name", c.className}, {"probability", c.probability}});
        out() << QString::fromStdString(list.dump(2)) << Qt::endl;
    } else {
        for (const Classification &c : *classes)
            out() << QString::fromStdString(c.source) << '\t' << c.label << '\t' << QString::fromStdString(c.className)
                  << '\t' << QString::number(double(c.probability), 'f', 4) << '\n';
        out().flush();
    }
    return Ok;
}

} // namespace paramlock::cli
