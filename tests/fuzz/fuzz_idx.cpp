// IDX image and label files: the first byte chooses where the input splits into the two files.
#include "dataset.h"
#include "fuzzutil.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const size_t split = std::min<size_t>(size - 1, data[0] * 4);
    const std::string images = writeInput(QStringLiteral("images-idx3-ubyte"), data + 1, split);
    const std::string labels = writeInput(QStringLiteral("labels-idx1-ubyte"), data + 1 + split, size - 1 - split);
    auto dataset = paramlock::readIdx(images, labels);
    if (dataset && dataset->pixels.size() != size_t(dataset->size() * dataset->imageBytes()))
        __builtin_trap();
    return 0;
}
