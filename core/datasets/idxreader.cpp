#include "dataset.h"

#include <QFileInfo>
#include <QString>

#include <zlib.h>

#include <array>

namespace paramlock {

namespace {

// gzread reads plain files transparently, so one path serves .gz and raw IDX.
Expected<std::string> readPossiblyCompressed(const std::string &path)
{
    if (!QFileInfo::exists(QString::fromStdString(path)))
        return Error{"file not found: " + path};
    gzFile file = gzopen(path.c_str(), "rb");
    if (!file)
        return Error{"cannot open " + path};
    std::string bytes;
    std::array<char, 1 << 16> buffer{};
    for (;;) {
        const int n = gzread(file, buffer.data(), static_cast<unsigned>(buffer.size()));
        if (n < 0) {
            int code = 0;
            const std::string why = gzerror(file, &code);
            gzclose(file);
            return Error{path + ": corrupt compressed data (" + why + ")"};
        }
        if (n == 0)
            break;
        bytes.append(buffer.data(), static_cast<size_t>(n));
    }
    // A truncated .gz stream ends without an error from gzread but is flagged here.
    int code = 0;
    gzerror(file, &code);
    const bool truncated = code == Z_BUF_ERROR;
    gzclose(file);
    if (truncated)
        return Error{path + ": compressed file is truncated"};
    return bytes;
}

uint32_t bigEndian32(const std::string &bytes, size_t offset)
{
    const auto *p = reinterpret_cast<const unsigned char *>(bytes.data()) + offset;
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

struct IdxArray
{
    std::vector<uint32_t> dims;
    size_t dataOffset = 0;
};

Expected<IdxArray> parseIdxHeader(const std::string &bytes, const std::string &path, int expectedDims)
{
    if (bytes.size() < 4)
        return Error{path + ": not an IDX file (shorter than its 4-byte magic number)"};
    const auto *p = reinterpret_cast<const unsigned char *>(bytes.data());
    if (p[0] != 0 || p[1] != 0)
        return Error{path + ": not an IDX file (bad magic number)"};
    if (p[2] != 0x08)
        return Error{
            path + ": IDX element type 0x" + QString::number(p[2], 16).toStdString() + " is not unsigned bytes (0x08)"};
    if (p[3] != expectedDims)
        return Error{
            path + ": IDX file has " + std::to_string(p[3]) + " dimensions, expected " + std::to_string(expectedDims)};
    IdxArray array;
    array.dataOffset = 4 + 4 * size_t(expectedDims);
    if (bytes.size() < array.dataOffset)
        return Error{path + ": IDX header is truncated"};
    size_t expectedSize = 1;
    for (int i = 0; i < expectedDims; ++i) {
        array.dims.push_back(bigEndian32(bytes, 4 + 4 * size_t(i)));
        expectedSize *= array.dims.back();
    }
    const size_t actual = bytes.size() - array.dataOffset;
    if (actual < expectedSize)
        return Error{path + ": IDX data is truncated (" + std::to_string(actual) + " of " + std::to_string(expectedSize)
            + " bytes)"};
    if (actual > expectedSize)
        return Error{
            path + ": IDX file has " + std::to_string(actual - expectedSize) + " bytes more than its header declares"};
    return array;
}

} // namespace

Expected<Dataset> readIdx(const std::string &imagesFile, const std::string &labelsFile)
{
    auto images = readPossiblyCompressed(imagesFile);
    if (!images)
        return Error{images.error()};
    auto labels = readPossiblyCompressed(labelsFile);
    if (!labels)
        return Error{labels.error()};
    auto imageHeader = parseIdxHeader(*images, imagesFile, 3);
    if (!imageHeader)
        return Error{imageHeader.error()};
    auto labelHeader = parseIdxHeader(*labels, labelsFile, 1);
    if (!labelHeader)
        return Error{labelHeader.error()};
    const uint32_t count = imageHeader->dims[0];
    if (labelHeader->dims[0] != count)
        return Error{"image and label files disagree: " + std::to_string(count) + " images but "
            + std::to_string(labelHeader->dims[0]) + " labels (" + imagesFile + ", " + labelsFile + ")"};
    if (imageHeader->dims[1] == 0 || imageHeader->dims[2] == 0)
        return Error{imagesFile + ": images have zero size"};

    Dataset data;
    data.channels = 1;
    data.height = int(imageHeader->dims[1]);
    data.width = int(imageHeader->dims[2]);
    data.source = imagesFile;
    data.pixels.assign(images->begin() + long(imageHeader->dataOffset), images->end());
    data.labels.reserve(count);
    int maxLabel = -1;
    for (uint32_t i = 0; i < count; ++i) {
        const int label = static_cast<unsigned char>((*labels)[labelHeader->dataOffset + i]);
        maxLabel = std::max(maxLabel, label);
        data.labels.push_back(label);
    }
    const bool fashion = QString::fromStdString(imagesFile).contains(QLatin1String("fashion"), Qt::CaseInsensitive);
    if (fashion) {
        data.name = "fashion-mnist";
        data.classNames = {
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
        data.normalization = {{0.2860f}, {0.3530f}};
    } else {
        data.name = "mnist";
        data.classNames = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
        data.normalization = {{0.1307f}, {0.3081f}};
    }
    if (maxLabel >= 10)
        return Error{
            labelsFile + ": label " + std::to_string(maxLabel) + " is out of range for a 10-class IDX dataset"};
    data.classCount = 10;
    return data;
}

} // namespace paramlock
