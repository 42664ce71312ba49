// Key files: plain JSON keys and password-sealed keys, inspected and opened.
#include "sealedkey.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string text(reinterpret_cast<const char *>(data), size);
    (void)paramlock::inspectKey(text);
    const paramlock::OpenedKey opened = paramlock::openKey(text, "fuzz");
    if (opened.ok()) // a key that opens must survive a round trip
        if (!paramlock::SecretKey::fromJson(opened.key.toJson()))
            __builtin_trap();
    return 0;
}
