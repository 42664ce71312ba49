#include "dataset.h"

#include <QDir>
#include <QFileInfo>
#include <QString>

#include <algorithm>
#include <numeric>
#include <random>

namespace paramlock {

bool Normalization::isIdentity() const
{
    const bool zeroMean = std::all_of(mean.begin(), mean.end(), [](float m) { return m == 0.0f; });
    const bool unitStd = std::all_of(std.begin(), std.end(), [](float s) { return s == 1.0f; });
    return zeroMean && unitStd;
}

Dataset Dataset::subset(const std::vector<int64_t> &indices) const
{
    Dataset out;
    out.name = name;
    out.source = source;
    out.channels = channels;
    out.height = height;
    out.width = width;
    out.classCount = classCount;
    out.classNames = classNames;
    out.normalization = normalization;
    out.pixels.reserve(indices.size() * size_t(imageBytes()));
    out.labels.reserve(indices.size());
    for (int64_t i : indices) {
        out.pixels.insert(out.pixels.end(), image(i), image(i) + imageBytes());
        out.labels.push_back(labels[size_t(i)]);
    }
    return out;
}

std::string debianFashionMnistPath()
{
    return "/usr/share/datasets/fashion-mnist";
}

namespace {

QString findIdxFile(const QDir &dir, const QString &stem)
{
    // Both the usual "train-images-idx3-ubyte" and MNIST's "train-images.idx3-ubyte" spellings.
    QString dotted = stem;
    dotted.replace(QLatin1String("-idx"), QLatin1String(".idx"));
    for (const QString &name : {stem, stem + QLatin1String(".gz"), dotted, dotted + QLatin1String(".gz")})
        if (dir.exists(name))
            return dir.filePath(name);
    return {};
}

QString cifarFolder(const QDir &dir)
{
    if (dir.exists(QStringLiteral("data_batch_1.bin")) || dir.exists(QStringLiteral("test_batch.bin")))
        return dir.path();
    if (dir.exists(QStringLiteral("cifar-10-batches-bin/data_batch_1.bin"))
        || dir.exists(QStringLiteral("cifar-10-batches-bin/test_batch.bin")))
        return dir.filePath(QStringLiteral("cifar-10-batches-bin"));
    return {};
}

bool isGtsrb(const QDir &dir)
{
    for (const char *sub : {"Final_Training", "Final_Test", "GTSRB/Final_Training", "GTSRB/Final_Test"})
        if (dir.exists(QLatin1String(sub)))
            return true;
    return false;
}

QString resolvePath(const std::string &path)
{
    if (path == "fashion-mnist")
        return QString::fromStdString(debianFashionMnistPath());
    return QString::fromStdString(path);
}

} // namespace

Expected<std::string> detectDatasetFormat(const std::string &path)
{
    const QString resolved = resolvePath(path);
    const QFileInfo info(resolved);
    if (!info.exists()) {
        if (path == "fashion-mnist")
            return Error{"Fashion-MNIST not found in " + resolved.toStdString()
                + " (install the Debian package dataset-fashion-mnist)"};
        return Error{"dataset not found: " + path};
    }
    if (!info.isDir())
        return Error{path + " is a file; give the dataset's folder"};
    const QDir dir(resolved);
    if (!findIdxFile(dir, QStringLiteral("train-images-idx3-ubyte")).isEmpty()
        || !findIdxFile(dir, QStringLiteral("t10k-images-idx3-ubyte")).isEmpty())
        return std::string("idx");
    if (!cifarFolder(dir).isEmpty())
        return std::string("cifar-10");
    if (isGtsrb(dir))
        return std::string("gtsrb");
    if (!dir.entryList(QDir::Dirs | QDir::NoDotAndDotDot).isEmpty())
        return std::string("image-folder");
    return Error{path
        + ": not a recognised dataset (IDX, CIFAR-10 binary, GTSRB or an image folder with one sub-folder per class)"};
}

Expected<Dataset> loadDataset(const std::string &path, Split split, const DatasetOptions &options)
{
    auto format = detectDatasetFormat(path);
    if (!format)
        return Error{format.error()};
    const QDir dir(resolvePath(path));
    const bool train = split == Split::Train;

    if (*format == "idx") {
        const QString prefix = train ? QStringLiteral("train") : QStringLiteral("t10k");
        const QString images = findIdxFile(dir, prefix + QLatin1String("-images-idx3-ubyte"));
        const QString labels = findIdxFile(dir, prefix + QLatin1String("-labels-idx1-ubyte"));
        if (images.isEmpty() || labels.isEmpty())
            return Error{dir.path().toStdString() + ": the " + (train ? "training" : "test") + " split's IDX files ("
                + prefix.toStdString() + "-images/-labels) are missing"};
        auto data = readIdx(images.toStdString(), labels.toStdString());
        if (data && path == "fashion-mnist")
            data->name = "fashion-mnist";
        return data;
    }
    if (*format == "cifar-10") {
        const QDir folder(cifarFolder(dir));
        std::vector<std::string> files;
        if (train) {
            for (int i = 1; i <= 5; ++i) {
                const QString f = folder.filePath(QStringLiteral("data_batch_%1.bin").arg(i));
                if (QFileInfo::exists(f))
                    files.push_back(f.toStdString());
            }
        } else if (folder.exists(QStringLiteral("test_batch.bin"))) {
            files.push_back(folder.filePath(QStringLiteral("test_batch.bin")).toStdString());
        }
        if (files.empty())
            return Error{folder.path().toStdString() + ": no CIFAR-10 "
                + (train ? "data_batch_N.bin" : "test_batch.bin") + " files"};
        return readCifar10(files, folder.filePath(QStringLiteral("batches.meta.txt")).toStdString());
    }
    if (*format == "gtsrb")
        return readGtsrb(dir.path().toStdString(), split, options);

    const QString sub = train ? QStringLiteral("train") : QStringLiteral("test");
    if (dir.exists(QStringLiteral("train")) && dir.exists(QStringLiteral("test")))
        return readImageFolder(dir.filePath(sub).toStdString(), options);
    return readImageFolder(dir.path().toStdString(), options);
}

Expected<std::vector<int64_t>> sampleIndices(const Dataset &dataset, const SamplingOptions &options)
{
    if (options.count <= 0)
        return Error{"the encryption set needs at least one sample"};
    if (options.count > dataset.size())
        return Error{"asked for " + std::to_string(options.count) + " samples but the dataset has only "
            + std::to_string(dataset.size())};
    std::mt19937_64 rng(options.seed);
    std::vector<int64_t> chosen;
    if (!options.classBalanced) {
        std::vector<int64_t> all(size_t(dataset.size()));
        std::iota(all.begin(), all.end(), 0);
        // Partial Fisher-Yates: the first `count` positions are a uniform sample.
        for (int64_t i = 0; i < options.count; ++i) {
            std::uniform_int_distribution<int64_t> pick(i, dataset.size() - 1);
            std::swap(all[size_t(i)], all[size_t(pick(rng))]);
        }
        chosen.assign(all.begin(), all.begin() + options.count);
        return chosen;
    }

    const int classes = dataset.classCount;
    std::vector<std::vector<int64_t>> byClass(size_t(std::max(classes, 1)));
    for (int64_t i = 0; i < dataset.size(); ++i)
        byClass[size_t(dataset.labels[size_t(i)])].push_back(i);
    std::vector<int64_t> quota(size_t(classes), options.count / classes);
    std::vector<int> order(static_cast<size_t>(classes));
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    for (int64_t r = 0; r < options.count % classes; ++r)
        ++quota[size_t(order[size_t(r)])];
    for (int c = 0; c < classes; ++c) {
        auto &pool = byClass[size_t(c)];
        if (int64_t(pool.size()) < quota[size_t(c)])
            return Error{"class-balanced sampling needs " + std::to_string(quota[size_t(c)]) + " samples of class "
                + std::to_string(c) + " but the dataset has " + std::to_string(pool.size())};
        std::shuffle(pool.begin(), pool.end(), rng);
        chosen.insert(chosen.end(), pool.begin(), pool.begin() + quota[size_t(c)]);
    }
    std::shuffle(chosen.begin(), chosen.end(), rng);
    return chosen;
}

} // namespace paramlock
