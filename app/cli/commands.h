#pragma once

// paramlock-cli's commands: one file each, listed in one table (commandtable.cpp).

#include <QStringList>

namespace paramlock::cli {

/** Runs one subcommand; `args` starts with the program name and the subcommand. Returns the exit code. */
int runCommand(const QString &command, const QStringList &args);

/** The subcommands with one-line descriptions, for the top-level help. */
QString commandSummary();

int cmdAttack(const QStringList &args);
int cmdDemo(const QStringList &args);
int cmdEvaluate(const QStringList &args);
int cmdExperiment(const QStringList &args);
int cmdInfo(const QStringList &args);
int cmdKey(const QStringList &args);
int cmdLicence(const QStringList &args);
/** `licence attack` (licenceattack.cpp), one of cmdLicence's actions. */
int licenceAttackCommand(const QStringList &args);
int cmdLock(const QStringList &args);
int cmdReport(const QStringList &args);
int cmdFingerprint(const QStringList &args);
int cmdFrontier(const QStringList &args);
int cmdRun(const QStringList &args);
int cmdTrain(const QStringList &args);
int cmdUnlock(const QStringList &args);
int cmdVerify(const QStringList &args);

} // namespace paramlock::cli
