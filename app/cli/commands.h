#pragma once

#include <QStringList>

namespace paramlock::cli {

/** Runs one subcommand; `args` starts with the program name and the subcommand. Returns the exit code. */
int runCommand(const QString &command, const QStringList &args);

/** The subcommands with one-line descriptions, for the top-level help. */
QString commandSummary();

} // namespace paramlock::cli
