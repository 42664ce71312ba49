// CIFAR-10 binary batches and their batches.meta.txt: the first byte chooses the split.
#include "dataset.h"
#include "fuzzutil.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const size_t metaSize = std::min<size_t>(size - 1, data[0]);
    const std::string meta = writeInput(QStringLiteral("batches.meta.txt"), data + 1, metaSize);
    const std::string batch = writeInput(QStringLiteral("data_batch_1.bin"), data + 1 + metaSize, size - 1 - metaSize);
    auto dataset = paramlock::readCifar10({batch}, meta);
    if (dataset && dataset->pixels.size() != size_t(dataset->size() * dataset->imageBytes()))
        __builtin_trap();
    return 0;
}
