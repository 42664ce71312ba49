#include "unlocked.h"

#include "unlock.h"
#include "imagedecoding.h"

#include <QImageReader>

namespace paramlock {

Expected<UnlockedModel> UnlockedModel::open(
    const std::string &lockedModelPath, const std::string &keyPath, const std::string &password)
{
    OpenedKey opened = openKeyFile(keyPath, password);
    if (!opened.ok())
        return Error{opened.message};
    if (auto ok = checkKeyMethod(opened.key); !ok)
        return Error{keyPath + ": " + ok.error()};
    auto model = Model::load(lockedModelPath);
    if (!model)
        return Error{model.error()};
    // Read from the file for this purpose alone: unlocked where it is, without a copy.
    if (auto unlocked = unlockInPlace(*model, opened.key); !unlocked)
        return Error{unlocked.error()};
    return UnlockedModel(std::move(*model));
}

Expected<UnlockedModel> UnlockedModel::unlock(const Model &locked, const SecretKey &key)
{
    auto model = unlockModel(locked, key);
    if (!model)
        return Error{model.error()};
    return UnlockedModel(std::move(*model));
}

void UnlockedModel::setInputShape(int channels, int height, int width)
{
    ModelMetadata meta = m_model.metadata();
    meta.channels = channels;
    meta.height = height;
    meta.width = width;
    m_model.setMetadata(meta);
}

Expected<std::vector<Classification>> classifyImages(
    const Model &model, const std::vector<QImage> &images, const std::function<void(Dataset &)> &prepare)
{
    const ModelMetadata &meta = model.metadata();
    if (!meta.hasInputShape())
        return Error{"the model does not record its input size; give it (channels, height, width) explicitly"};
    if (meta.channels != 1 && meta.channels != 3)
        return Error{"images can only be fed to models with 1 or 3 input channels, this one has "
            + std::to_string(meta.channels)};
    Dataset batch;
    batch.channels = meta.channels;
    batch.height = meta.height;
    batch.width = meta.width;
    batch.classCount = meta.classCount;
    for (const QImage &image : images) {
        if (image.isNull())
            return Error{"an image is empty"};
        appendImagePixels(image, meta.channels, meta.width, meta.height, batch.pixels);
        batch.labels.push_back(0);
    }
    if (prepare)
        prepare(batch);
    auto predictions = predict(model, batch);
    if (!predictions)
        return Error{predictions.error()};
    std::vector<Classification> out;
    for (const Prediction &p : *predictions) {
        Classification c;
        c.label = p.label;
        c.probability = p.probability;
        c.className = p.label >= 0 && size_t(p.label) < meta.classNames.size() ? meta.classNames[size_t(p.label)]
                                                                               : std::to_string(p.label);
        out.push_back(std::move(c));
    }
    return out;
}

Expected<std::vector<Classification>> classifyImageFiles(const std::vector<std::string> &paths,
    const std::function<Expected<std::vector<Classification>>(const std::vector<QImage> &)> &classify)
{
    std::vector<QImage> images;
    for (const std::string &path : paths) {
        QImageReader reader(QString::fromStdString(path));
        QImage image = reader.read();
        if (image.isNull())
            return Error{path + ": cannot read the image (" + reader.errorString().toStdString() + ")"};
        images.push_back(std::move(image));
    }
    auto out = classify(images);
    if (!out)
        return out;
    for (size_t i = 0; i < paths.size(); ++i)
        (*out)[i].source = paths[i];
    return out;
}

Expected<std::vector<Classification>> UnlockedModel::classify(const std::vector<QImage> &images) const
{
    return classifyImages(m_model, images);
}

Expected<std::vector<Classification>> UnlockedModel::classifyFiles(const std::vector<std::string> &paths) const
{
    return classifyImageFiles(paths, [this](const std::vector<QImage> &images) { return classify(images); });
}

} // namespace paramlock
