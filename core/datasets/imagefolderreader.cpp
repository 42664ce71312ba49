#include "dataset.h"
#include "imagedecoding.h"

#include <QDir>
#include <QImageReader>
#include <QString>
#include <QStringList>

namespace paramlock {

Expected<Dataset> readImageFolder(const std::string &rootPath, const DatasetOptions &options)
{
    const QDir root(QString::fromStdString(rootPath));
    if (!root.exists())
        return Error{"image folder not found: " + rootPath};
    const QStringList classes = root.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
    if (classes.isEmpty())
        return Error{rootPath + ": an image folder needs one sub-folder per class"};
    const QStringList patterns = {QStringLiteral("*.png"), QStringLiteral("*.jpg"), QStringLiteral("*.jpeg"),
        QStringLiteral("*.ppm"), QStringLiteral("*.PNG"), QStringLiteral("*.JPG"), QStringLiteral("*.JPEG"),
        QStringLiteral("*.PPM")};

    // First pass: decode everything, so the channel count can follow the images.
    std::vector<std::pair<QImage, int>> images;
    bool anyColour = false;
    for (int c = 0; c < classes.size(); ++c) {
        const QDir dir(root.filePath(classes[c]));
        const QStringList files = dir.entryList(patterns, QDir::Files, QDir::Name);
        for (const QString &f : files) {
            QImageReader reader(dir.filePath(f));
            QImage image = reader.read();
            if (image.isNull())
                return Error{
                    "cannot decode image " + dir.filePath(f).toStdString() + ": " + reader.errorString().toStdString()};
            anyColour = anyColour || !image.isGrayscale();
            images.emplace_back(std::move(image), c);
        }
    }
    if (images.empty())
        return Error{rootPath + ": no PNG, JPEG or PPM images in the class folders"};

    Dataset data;
    data.name = "image-folder";
    data.source = rootPath;
    data.channels = anyColour ? 3 : 1;
    data.width = options.width > 0 ? options.width : images.front().first.width();
    data.height = options.height > 0 ? options.height : images.front().first.height();
    data.classCount = int(classes.size());
    for (const QString &c : classes)
        data.classNames.push_back(c.toStdString());
    data.pixels.reserve(images.size() * size_t(data.imageBytes()));
    for (const auto &[image, label] : images) {
        appendImagePixels(image, data.channels, data.width, data.height, data.pixels);
        data.labels.push_back(label);
    }
    return data;
}

} // namespace paramlock
