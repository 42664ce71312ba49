#pragma once

// Text helpers the pages share.

#include "text.h"

#include <QString>

namespace paramlock {

/** A fraction as a percentage for a label: percent(0.9107) -> "91.1%". */
inline QString percent(double fraction, int decimals = 1)
{
    return QString::fromStdString(percentText(fraction, decimals));
}

} // namespace paramlock
