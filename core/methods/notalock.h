#pragma once

// The Lock capability's calls for a method that does not lock (a licence or a fingerprint restores nothing): each
// refuses with a sentence that says where to go instead, and checkModel asks for what every input-side method needs.

#include "protectionmethod.h"

namespace paramlock {

class NotALockMethod : public ProtectionMethod
{
public:
    Expected<void> checkModel(const Model &model, const LockRequest &) const override
    {
        if (!model.metadata().hasInputShape() || model.metadata().classCount < 2)
            return Error{"the model does not record its input shape and class count; give them and try again"};
        return {};
    }
    Expected<std::vector<int64_t>> drawSample(const Dataset &, const LockRequest &) const override
    {
        return Error{insteadOfLocking()};
    }
    Expected<LockResult> lock(Model &, bool, const Dataset &, const LockRequest &, Progress &) const override
    {
        return Error{insteadOfLocking()};
    }
    KeyFit checkKey(const Model &model, const SecretKey &key) const override
    {
        KeyFit fit;
        fit.state = KeyFit::State::BadEntries;
        fit.modelFingerprint = model.fingerprint();
        fit.message = insteadOfUnlocking(key);
        return fit;
    }
    Expected<void> restore(Model &model, const SecretKey &key, UnlockTiming &) const override
    {
        return Error{checkKey(model, key).message};
    }

protected:
    /** What to run instead of a lock: "use paramlock-cli licence lock". */
    virtual std::string insteadOfLocking() const = 0;
    /** What the method's file is for, when given to unlock. */
    virtual std::string insteadOfUnlocking(const SecretKey &key) const = 0;
};

} // namespace paramlock
