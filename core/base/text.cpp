#include "text.h"

#include <QString>

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
