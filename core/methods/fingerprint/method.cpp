// User fingerprints behind the method seam: their parameters, declared once, and the Trace capability. A fingerprint
// restores nothing, so the Lock capability's calls say where to go instead.
#include "fingerprint.h"

#include "notalock.h"
#include "parametertable.h"

namespace paramlock {

namespace fingerprint {

const ParameterTable<FingerprintSettings> &parameterTable();

namespace {

using S = FingerprintSettings;

ParameterTable<S> makeTable()
{
    ParameterTable<S> t;
    t.integer(parameterSpec("signals", "Signals (N)", "signals", 2, 256,
                  "How many secret signals the owner's trigger has; every user's fingerprint is some of them."),
        &S::signalCount);
    t.integer(parameterSpec("subset-size", "Signals per user (n)", "signals", 1, 255,
                  "How many of the signals make one user's fingerprint; C(N, n) users can be told apart."),
        &S::subsetSize);
    t.integer(parameterSpec("signal-size", "Signal side", "pixels", 1, 16,
                  "The side of one signal's square of secret black and white pixels."),
        &S::signalSize);
    t.integer(parameterSpec("target", "Target class", "", 0, 1 << 20,
                  "The class every fingerprint and the owner's trigger lead to."),
        &S::target);
    t.real(parameterSpec("threshold", "Acceptance threshold", "", 0.0, 1.0,
               "A user is authenticated when this share of their fingerprint images or more is answered with the "
               "target class."),
        &S::threshold);
    t.integer(parameterSpec("epochs", "Epochs", "epochs", 1, 1000,
                  "Passes over the training images when fingerprints are first embedded."),
        &S::epochs);
    t.integer(parameterSpec("update-epochs", "Update epochs", "epochs", 1, 1000,
                  "Passes over the training images when users are added or removed later."),
        &S::updateEpochs);
    t.integer(parameterSpec("train-images", "Training images", "images", 0, 1e8,
                  "How many training images the fine-tuning uses, drawn with the seed; 1,000 more are held out for "
                  "the carrier images and the checks.",
                  {}, "all"),
        &S::trainImages);
    t.real(parameterSpec("learning-rate", "Learning rate", "", 1e-6, 1.0, "Adam's step size."), &S::learningRate);
    t.integer(parameterSpec("batch-size", "Batch size", "images", 1, 4096,
                  "Clean images per step; the stamped copies (owner, users, forged subsets) come on top."),
        &S::batchSize);
    t.real(
        parameterSpec("clean-weight", "Clean weight", "", 0.1, 10.0,
            "How many times the clean images' loss counts in a step, beside the stamped copies' (which outnumber "
            "them 3.5 to 1 with ten users): higher keeps more of the clean accuracy, lower rejects forged fingerprints "
            "more surely."),
        &S::cleanWeight);
    t.integer(microBatchSpec(), &S::microBatch);
    t.real(parameterSpec("weight-noise", "Weight noise", "", 0.0, 1.0,
               "Each step's gradient is taken at weights moved by Gaussian noise of this size, relative to each "
               "layer's weight spread, so that the fingerprints hold when the weights change later (fine-tuning); 0: "
               "off."),
        &S::weightNoise);
    t.real(parameterSpec("signal-step", "Signal learning", "grey levels", 0.0, 64.0,
               "The signals' pixel values are learnt beside the weights by Adam with this step, from the loss's "
               "gradient on every stamped image, starting from the values the secret paints; 0: the painted values "
               "stay. Learnt in the shared model only (tracing copies share one set of signals)."),
        &S::signalStep);
    return t;
}

class FingerprintMethod : public NotALockMethod
{
public:
    std::string id() const override { return "fingerprint"; }
    std::string name() const override { return "User fingerprints"; }
    std::string summary() const override
    {
        return "Trains secret fingerprints into the model: each registered user's fingerprint (and the owner's "
               "trigger) leads to a target class, which authenticates users, proves ownership and names the "
               "licensee whose copy leaked.";
    }
    std::string citation() const override
    {
        return "Xue, Wu, He, Wang, Liu: Active DNN IP protection: a novel user fingerprint management and DNN "
               "authorization control technique, IEEE TrustCom 2020";
    }
    unsigned capabilities() const override { return unsigned(Capability::Trace); }
    const std::vector<ParameterSpec> &parameters() const override { return parameterTable().specs(); }
    Expected<void> validate(const LockRequest &request) const override
    {
        auto s = fingerprintSettings(request.values);
        if (!s)
            return Error{s.error()};
        if (s->subsetSize >= s->signalCount)
            return Error{"--subset-size must be below --signals"};
        return {};
    }
    Expected<void> checkModel(const Model &model, const LockRequest &request) const override
    {
        if (auto ok = NotALockMethod::checkModel(model, request); !ok)
            return ok;
        auto s = fingerprintSettings(request.values);
        if (!s)
            return Error{s.error()};
        if (s->target >= model.metadata().classCount)
            return Error{"the target class must be one of 0-" + std::to_string(model.metadata().classCount - 1)};
        return {};
    }
    Expected<LockRequest> requestOf(const SecretKey &key) const override
    {
        auto registry = FingerprintRegistry::of(key);
        if (!registry)
            return Error{registry.error()};
        LockRequest request;
        request.values = valuesOfSettings(registry->settings);
        request.seed = registry->settings.seed;
        return request;
    }
    Expected<void> checkPayload(const SecretKey &key) const override
    {
        auto r = FingerprintRegistry::of(key);
        return r ? Expected<void>() : Expected<void>(Error{r.error()});
    }

protected:
    std::string insteadOfLocking() const override
    {
        return "user fingerprints trace a model instead of locking its weights: use paramlock-cli fingerprint embed";
    }
    std::string insteadOfUnlocking(const SecretKey &) const override
    {
        return "a fingerprint registry does not unlock a model: check a model with it instead (paramlock-cli "
               "fingerprint verify|owner|identify)";
    }
};

} // namespace

const ParameterTable<FingerprintSettings> &parameterTable()
{
    static const ParameterTable<FingerprintSettings> table = makeTable();
    return table;
}

} // namespace fingerprint

Expected<FingerprintSettings> fingerprintSettings(const ParameterValues &values)
{
    return fingerprint::parameterTable().apply(values);
}

ParameterValues valuesOfSettings(const FingerprintSettings &settings)
{
    return fingerprint::parameterTable().valuesOf(settings);
}

const ProtectionMethod &fingerprintMethod()
{
    static const fingerprint::FingerprintMethod method;
    return method;
}

} // namespace paramlock
