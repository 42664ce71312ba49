#include "dataset.h"

#include <QFile>
#include <QString>

namespace paramlock {

namespace {
constexpr int kCifarSide = 32;
constexpr int kCifarImageBytes = 3 * kCifarSide * kCifarSide;
constexpr int kCifarRecordBytes = 1 + kCifarImageBytes;
} // namespace

Expected<Dataset> readCifar10(const std::vector<std::string> &batchFiles, const std::string &metaFile)
{
    if (batchFiles.empty())
        return Error{"no CIFAR-10 batch files given"};
    Dataset data;
    data.name = "cifar-10";
    data.channels = 3;
    data.height = kCifarSide;
    data.width = kCifarSide;
    data.classCount = 10;
    data.normalization = {{0.4914f, 0.4822f, 0.4465f}, {0.2470f, 0.2435f, 0.2616f}};
    data.classNames = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};

    for (const std::string &path : batchFiles) {
        QFile file(QString::fromStdString(path));
        if (!file.open(QIODevice::ReadOnly))
            return Error{"cannot open CIFAR-10 batch " + path + ": " + file.errorString().toStdString()};
        const QByteArray bytes = file.readAll();
        if (bytes.isEmpty())
            return Error{path + ": CIFAR-10 batch is empty"};
        if (bytes.size() % kCifarRecordBytes != 0)
            return Error{path + ": not a CIFAR-10 binary batch or truncated (" + std::to_string(bytes.size())
                + " bytes is not a multiple of the 3073-byte record)"};
        const qsizetype records = bytes.size() / kCifarRecordBytes;
        const auto *p = reinterpret_cast<const unsigned char *>(bytes.constData());
        for (qsizetype r = 0; r < records; ++r, p += kCifarRecordBytes) {
            if (p[0] >= 10)
                return Error{path + ": record " + std::to_string(r) + " has label " + std::to_string(p[0])
                    + ", CIFAR-10 labels are 0-9 (is this a CIFAR-100 file?)"};
            data.labels.push_back(p[0]);
            data.pixels.insert(data.pixels.end(), p + 1, p + kCifarRecordBytes);
        }
        data.source += (data.source.empty() ? "" : ",") + path;
    }

    if (!metaFile.empty()) {
        QFile meta(QString::fromStdString(metaFile));
        if (meta.open(QIODevice::ReadOnly | QIODevice::Text)) {
            std::vector<std::string> names;
            while (!meta.atEnd()) {
                const QString line = QString::fromUtf8(meta.readLine()).trimmed();
                if (!line.isEmpty())
                    names.push_back(line.toStdString());
            }
            if (names.size() == 10)
                data.classNames = names;
        }
    }
    return data;
}

} // namespace paramlock
