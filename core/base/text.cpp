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

} // namespace paramlock
