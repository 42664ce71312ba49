// The paramlock.json metadata that travels inside model files.
#include "model.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string text(reinterpret_cast<const char *>(data), size);
    auto meta = paramlock::ModelMetadata::fromJson(text);
    if (meta && !paramlock::ModelMetadata::fromJson(meta->toJson()))
        __builtin_trap();
    return 0;
}
