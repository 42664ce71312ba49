#include "unlock.h"

#include "atomicfile.h"

#include <QFile>
#include <QFileInfo>

#include <chrono>
#include <optional>

namespace paramlock {

namespace {

double secondsSince(std::chrono::steady_clock::time_point &clock)
{
    const auto now = std::chrono::steady_clock::now();
    const double seconds = std::chrono::duration<double>(now - clock).count();
    clock = now;
    return seconds;
}

} // namespace

Expected<void> checkKeyMethod(const SecretKey &key)
{
    const ProtectionMethod *method = methodById(key.method);
    if (!method)
        return Error{"the key uses the method \"" + key.method + "\", which this ParamLock cannot unlock (it knows "
            + methodIds(Capability::Lock) + ")"};
    return method->checkPayload(key);
}

KeyFit checkKey(const Model &model, const SecretKey &key)
{
    const ProtectionMethod *method = methodById(key.method);
    if (method && !method->can(Capability::Lock))
        return method->checkKey(model, key); // a file that restores nothing says what it is for
    KeyFit fit;
    fit.modelFingerprint = model.fingerprint();
    if (fit.modelFingerprint == key.originalFingerprint && fit.modelFingerprint != key.lockedFingerprint) {
        fit.state = KeyFit::State::AlreadyUnlocked;
        fit.message = "this model is not locked: it already is the original that the key restores";
        return fit;
    }
    if (fit.modelFingerprint != key.lockedFingerprint) {
        fit.state = KeyFit::State::OtherModel;
        fit.message = "the key was made for a different model (fingerprint " + key.lockedFingerprint.substr(0, 12)
            + "… vs this model's " + fit.modelFingerprint.substr(0, 12) + "…)";
        return fit;
    }
    if (!method) {
        fit.state = KeyFit::State::BadEntries;
        fit.message = "the key uses the method \"" + key.method + "\", which this ParamLock cannot unlock (it knows "
            + methodIds(Capability::Lock) + ")";
        return fit;
    }
    KeyFit own = method->checkKey(model, key);
    own.modelFingerprint = fit.modelFingerprint;
    return own;
}

namespace {

/** Unlocks `locked` itself, or a copy of it when `copy` is given: the key is checked before anything is copied. */
Expected<void> unlock(Model &locked, const SecretKey &key, UnlockTiming *timing, std::optional<Model> *copy)
{
    UnlockTiming local;
    UnlockTiming &t = timing ? *timing : local;
    t = UnlockTiming{};
    auto clock = std::chrono::steady_clock::now();
    const KeyFit fit = checkKey(locked, key);
    t.checkSeconds = secondsSince(clock);
    if (!fit.fits())
        return Error{fit.message};
    Model *target = &locked;
    if (copy) {
        *copy = locked.clone();
        target = &**copy;
        t.copySeconds = secondsSince(clock);
    }
    return methodById(key.method)->restore(*target, key, t);
}

} // namespace

Expected<void> unlockInPlace(Model &model, const SecretKey &key, UnlockTiming *timing)
{
    return unlock(model, key, timing, nullptr);
}

Expected<Model> unlockModel(const Model &locked, const SecretKey &key, UnlockTiming *timing)
{
    Model shared = locked; // shares the weights; only the copy below is changed
    std::optional<Model> restored;
    if (auto ok = unlock(shared, key, timing, &restored); !ok)
        return Error{ok.error()};
    return std::move(*restored);
}

Expected<void> saveLock(const LockResult &result, const std::string &modelPath, const std::string &keyPath,
    const std::vector<std::string> &protectedPaths, const std::string &keyText)
{
    if (samePath(modelPath, keyPath))
        return Error{"the locked model and the key cannot be written to the same file"};
    std::vector<std::string> keep = protectedPaths;
    keep.push_back(modelPath);
    // An existing key at the output path is kept aside, so that a failed model write puts it back.
    std::optional<std::string> previousKey;
    if (QFileInfo::exists(QString::fromStdString(keyPath)))
        if (auto old = readWholeFile(keyPath))
            previousKey = std::move(*old);
    if (auto saved = writeFileAtomically(keyPath, keyText.empty() ? result.key.toJson() : keyText, keep); !saved)
        return saved;
    if (auto saved = result.locked.save(modelPath, protectedPaths); !saved) {
        if (previousKey)
            (void)writeFileAtomically(keyPath, *previousKey);
        else
            QFile::remove(QString::fromStdString(keyPath));
        return saved;
    }
    return {};
}

} // namespace paramlock
