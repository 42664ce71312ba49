#pragma once

// Numbers as the user reads them, one formatter for each kind, shared by every front end.

#include <QString>

#include <string>

namespace paramlock {

/** A fraction as a percentage: percentText(0.9107) is "91.07%"; `spaced` writes "91.07 %". */
std::string percentText(double fraction, int decimals = 2, bool spaced = false);

/** The same, for Qt text. */
QString percentString(double fraction, int decimals = 2, bool spaced = false);

/** A number with a fixed count of decimals: fixedText(0.5, 2) is "0.50". */
std::string fixedText(double value, int decimals);

} // namespace paramlock
