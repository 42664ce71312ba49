#pragma once

// Passwords of sealed keys on the command line: a terminal prompt, a file or an environment variable.

#include "expected.h"
#include "sealedkey.h"

#include <QCommandLineOption>
#include <QCommandLineParser>

#include <string>

namespace paramlock::cli {

/** Where a key's password comes from: a terminal prompt, a file (first line) or an environment variable. */
struct PasswordFlags
{
    explicit PasswordFlags(const QString &prefix = {}, const QString &whose = QStringLiteral("the key"));
    QCommandLineOption prompt;
    QCommandLineOption file;
    QCommandLineOption env;

    QList<QCommandLineOption> all() const { return {prompt, file, env}; }
    bool given(const QCommandLineParser &p) const;
    /** Reads the password; `confirm` asks twice on a terminal (for new keys). */
    Expected<std::string> read(const QCommandLineParser &p, bool confirm) const;
};

/** Opens a plain or sealed key file, reading the password from the flags (or a terminal prompt when sealed). */
Expected<SecretKey> openKeyFromCli(const std::string &path, const QCommandLineParser &p, const PasswordFlags &flags);

/**
 * The key's text sealed with the password the flags give (and --kdf's strength) for `holder`, or empty when no
 * password was given: what to write instead of the plain key.
 */
Expected<std::string> sealIfAsked(
    const QCommandLineParser &p, const PasswordFlags &flags, const SecretKey &key, const std::string &holder);

} // namespace paramlock::cli
