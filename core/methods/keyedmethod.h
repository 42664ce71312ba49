#pragma once

// The Lock capability's key handling, written once for every method whose payload decodes to a typed key
// (`static Expected<Key> Key::of(const SecretKey &)`, with the lock's `settings` and their `seed`): a key that does
// not decode is refused with the decoder's message, and the method writes only what to do with a decoded key.

#include "protectionmethod.h"

namespace paramlock {

template<typename Key> class KeyedLockMethod : public ProtectionMethod
{
public:
    KeyFit checkKey(const Model &model, const SecretKey &key) const override
    {
        auto secret = Key::of(key);
        if (!secret) {
            KeyFit fit;
            fit.state = KeyFit::State::BadEntries;
            fit.message = secret.error();
            return fit;
        }
        return checkDecoded(model, *secret);
    }
    Expected<void> restore(Model &model, const SecretKey &key, UnlockTiming &timing) const override
    {
        auto secret = Key::of(key);
        if (!secret)
            return Error{secret.error()};
        return restoreDecoded(model, key, *secret, timing);
    }
    Expected<LockRequest> requestOf(const SecretKey &key) const override
    {
        auto secret = Key::of(key);
        if (!secret)
            return Error{secret.error()};
        LockRequest request;
        request.values = valuesOfSettings(secret->settings);
        request.seed = secret->settings.seed;
        return request;
    }
    Expected<void> checkPayload(const SecretKey &key) const override
    {
        auto secret = Key::of(key);
        if (!secret)
            return Error{secret.error()};
        return {};
    }

protected:
    /** Whether every position of a decoded key names a weight of `model`. */
    virtual KeyFit checkDecoded(const Model &model, const Key &secret) const = 0;
    /** Restores the original in place, verified by its fingerprint; on a mismatch the model is left locked. */
    virtual Expected<void> restoreDecoded(
        Model &model, const SecretKey &key, const Key &secret, UnlockTiming &timing) const = 0;
};

} // namespace paramlock
