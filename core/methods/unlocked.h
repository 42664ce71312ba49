#pragma once

#include "expected.h"
#include "model.h"
#include "sealedkey.h"
#include "training.h"

#include <QImage>

#include <functional>
#include <string>
#include <vector>

namespace paramlock {

/** One image's classification by an unlocked model. */
struct Classification
{
    std::string source; ///< the image file, when classified from a file
    int32_t label = -1;
    std::string className; ///< from the model's metadata, or the label as text
    float probability = 0.0f;
};

/**
 * Classifies images with `model`, scaled to its input size (grey or RGB as it expects); `prepare` may change the
 * batch of 8-bit images before the model sees it (a licence stamps it).
 */
Expected<std::vector<Classification>> classifyImages(
    const Model &model, const std::vector<QImage> &images, const std::function<void(Dataset &)> &prepare = {});

/** Reads image files (PNG, JPEG, PPM, ...) and classifies them with `classify`, naming each file in its result. */
Expected<std::vector<Classification>> classifyImageFiles(const std::vector<std::string> &paths,
    const std::function<Expected<std::vector<Classification>>(const std::vector<QImage> &)> &classify);

/**
 * A locked model unlocked in memory, for applications that embed ParamLock:
 * the key is applied to a private copy and the plaintext weights are never
 * written anywhere. Usage:
 *
 *     auto model = UnlockedModel::open("locked.pt", "alice.key", password);
 *     if (!model) { report(model.error()); return; }
 *     auto classes = model->classifyFiles({"shoe.png"});
 */
class UnlockedModel
{
public:
    /** Loads the locked model and the key (plain or sealed), checks that they belong together and unlocks. */
    static Expected<UnlockedModel> open(
        const std::string &lockedModelPath, const std::string &keyPath, const std::string &password = {});
    /** Unlocks an already loaded model with an opened key. */
    static Expected<UnlockedModel> unlock(const Model &locked, const SecretKey &key);

    /** Classifies images, scaled to the model's input size (grey or RGB as the model expects). */
    Expected<std::vector<Classification>> classify(const std::vector<QImage> &images) const;
    /** Reads and classifies image files (PNG, JPEG, PPM, ...). */
    Expected<std::vector<Classification>> classifyFiles(const std::vector<std::string> &paths) const;

    const ModelMetadata &metadata() const { return m_model.metadata(); }
    /** Overrides the input shape for TorchScript files that do not record it. */
    void setInputShape(int channels, int height, int width);

private:
    explicit UnlockedModel(Model model) : m_model(std::move(model)) { }
    Model m_model;
};

} // namespace paramlock
