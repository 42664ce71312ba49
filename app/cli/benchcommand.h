#pragma once

#include <QStringList>

namespace paramlock::cli {

/** paramlock-cli bench: lock vs its floor, evaluation vs raw forward, unlock, and the Python peer. */
int cmdBench(const QStringList &args);

} // namespace paramlock::cli
