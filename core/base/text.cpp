#include "text.h"

#include <QString>

#include <cmath>

namespace paramlock {

std::string percentText(double fraction, int decimals, bool spaced)
{
    return fixedText(fraction * 100.0, decimals) + (spaced ? " %" : "%");
}

QString percentString(double fraction, int decimals, bool spaced)
{
    return QString::fromStdString(percentText(fraction, decimals, spaced));
}

std::string fixedText(double value, int decimals)
{
    return QString::number(value, 'f', decimals).toStdString();
}

std::string chanceBelowText(double log10Chance)
{
    if (log10Chance >= 0.0)
        return "1";
    if (log10Chance < -3.0) {
        const double exponent = std::floor(-log10Chance);
        return "below 1e-" + QString::number(exponent, 'f', 0).toStdString();
    }
    // Two significant digits, rounded up so that the text stays an upper bound.
    const double value = std::pow(10.0, log10Chance);
    const double scale = std::pow(10.0, 1.0 - std::floor(log10Chance));
    const double up = std::ceil(value * scale - 1e-9) / scale;
    return "below " + QString::number(up, 'g', 2).toStdString();
}

std::string hexText(const uint8_t *bytes, size_t size)
{
    static const char digits[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(2 * size);
    for (size_t i = 0; i < size; ++i) {
        hex += digits[bytes[i] >> 4];
        hex += digits[bytes[i] & 15];
    }
    return hex;
}

bool readHex(const std::string &text, uint8_t *bytes, size_t size)
{
    if (text.size() != 2 * size)
        return false;
    auto digit = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1; };
    for (size_t i = 0; i < size; ++i) {
        const int hi = digit(text[2 * i]), lo = digit(text[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        bytes[i] = uint8_t(hi * 16 + lo);
    }
    return true;
}

} // namespace paramlock
