#pragma once

// How lock, demo and report print a lock: one JSON object for scripts, a few aligned lines for people.

#include "cliutil.h"
#include "lockworkflow.h"
#include "methodflags.h"

#include <nlohmann/json.hpp>

namespace paramlock::cli {

/** The lock workflow with progress on stderr, Ctrl-C cancelling it. */
Expected<LockOutcome> lockWithProgress(Model &model, const Dataset &train, const Dataset &test,
    const MethodFlags::Choice &choice, const WorkflowOptions &options, CliProgress &progress);

/** The lock's figures as JSON (accuracies, changed weights, why it stopped, the settings' values). */
nlohmann::json lockJson(const LockOutcome &outcome);

/** The lock in a few lines: method, layers, iterations, changed weights, time, notes. */
void printLockSummary(const LockOutcome &outcome);

/** The settings a lock will use, in one line (the demo prints it before it starts). */
QString describeRequest(const ProtectionMethod &method, const LockRequest &request);

/** A weak lock, said loudly on stderr: why, and how to keep it anyway. */
void warnWeak(const LockOutcome &outcome, const QString &keepHint);

} // namespace paramlock::cli
