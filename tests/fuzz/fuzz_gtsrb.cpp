// GTSRB's annotation CSV, in the official test layout beside one real 4x4 PPM image.
#include "dataset.h"
#include "fuzzutil.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const bool imageWritten = [] {
        std::string ppm = "P6\n4 4\n255\n";
        for (int i = 0; i < 16; ++i)
            ppm += std::string{char(i * 16), char(255 - i * 16), char(i * 8)};
        writeInput(
            QStringLiteral("Final_Test/Images/00000.ppm"), reinterpret_cast<const uint8_t *>(ppm.data()), ppm.size());
        return true;
    }();
    (void)imageWritten;
    writeInput(QStringLiteral("Final_Test/Images/GT-final_test.csv"), data, size);
    auto dataset = paramlock::readGtsrb(fuzzDir().path().toStdString(), paramlock::Split::Test);
    if (dataset && dataset->pixels.size() != size_t(dataset->size() * dataset->imageBytes()))
        __builtin_trap();
    return 0;
}
