#pragma once

// Numbers as the user reads them, one formatter for each kind, shared by every front end.

#include <QString>

#include <cstddef>
#include <cstdint>
#include <string>

namespace paramlock {

/** A fraction as a percentage: percentText(0.9107) is "91.07%"; `spaced` writes "91.07 %". */
std::string percentText(double fraction, int decimals = 2, bool spaced = false);

/** The same, for Qt text. */
QString percentString(double fraction, int decimals = 2, bool spaced = false);

/** A number with a fixed count of decimals: fixedText(0.5, 2) is "0.50". */
std::string fixedText(double value, int decimals);

/**
 * A probability given as its log10, as an upper bound: "below 1e-102" for -102.4, "below 0.029" for -1.55 (two
 * significant digits, rounded up), "1" for 0.
 */
std::string chanceBelowText(double log10Chance);

/** Bytes as lower-case hex digits (secrets in key files). */
std::string hexText(const uint8_t *bytes, size_t size);

/** Reads exactly `size` bytes written by hexText; false when the text is not 2 x size lower-case hex digits. */
bool readHex(const std::string &text, uint8_t *bytes, size_t size);

} // namespace paramlock
