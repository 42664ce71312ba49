#include "password.h"

#include "atomicfile.h"
#include "cliutil.h"
#include "sealedkey.h"
#include "unlock.h"

#include <cstdio>
#include <cstdlib>
#include <termios.h>

namespace paramlock::cli {

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
        if (auto ok = checkKeyMethod(opened.key); !ok)
            return Error{path + ": " + ok.error()};
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
    if (auto ok = checkKeyMethod(opened.key); !ok)
        return Error{path + ": " + ok.error()};
    return std::move(opened.key);
}

Expected<std::string> sealIfAsked(
    const QCommandLineParser &p, const PasswordFlags &flags, const SecretKey &key, const std::string &holder)
{
    if (!flags.given(p))
        return std::string();
    auto strength = KdfStrength::named(p.value(kKdf).toStdString());
    if (!strength)
        return Error{strength.error()};
    auto read = flags.read(p, true);
    if (!read)
        return Error{read.error()};
    auto sealed = sealKey(key, *read, holder, *strength);
    wipe(*read);
    if (!sealed)
        return Error{sealed.error()};
    return std::move(*sealed);
}

} // namespace paramlock::cli
