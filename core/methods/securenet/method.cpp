// SecureNet behind the method seam: its parameters, declared once, and the Licence capability. A licence does not
// restore weights, so the Lock capability's calls say where to go instead.
#include "securenet.h"

#include "notalock.h"
#include "parametertable.h"
#include "sealedkey.h"
#include "unlocked.h"

namespace paramlock {

namespace securenet {

const ParameterTable<LicenceSettings> &parameterTable();

namespace {

using S = LicenceSettings;

ParameterTable<S> makeTable()
{
    ParameterTable<S> t;
    t.choice(
        parameterSpec("pattern", "Licence pattern", "", 0, 0,
            "What a licence stamps on every input: secret low-amplitude noise over the whole image (it resists "
            "forged licences better), or a small square of secret grey values at a secret place."),
        {{"noise", "Secret noise", "± --amplitude grey levels on every pixel, the signs secret."},
            {"patch", "Secret patch", "A square of secret grey values at a secret place (--patch-size)."}},
        [](const S &s) { return s.kind; }, [](S &s, const std::string &v) { s.kind = v; });
    t.integer(
        parameterSpec("patch-size", "Patch side", "pixels", 1, 64, "The side of the licence's square (patch pattern)."),
        &S::patchSize);
    t.integer(parameterSpec("amplitude", "Noise amplitude", "grey levels", 1, 128,
                  "How far the licence moves every pixel (noise pattern), out of 255."),
        &S::amplitude);
    t.integer(parameterSpec("epochs", "Epochs", "epochs", 1, 1000,
                  "Passes over the training images when a model is first licensed."),
        &S::epochs);
    t.integer(parameterSpec("rekey-epochs", "Re-key epochs", "epochs", 1, 1000,
                  "Passes over the training images when licences are replaced, revoked or added."),
        &S::rekeyEpochs);
    t.integer(parameterSpec("train-images", "Training images", "images", 0, 1e8,
                  "How many training images the fine-tuning uses, drawn with the seed; 1,000 more are held out to "
                  "check the result.",
                  {}, "all"),
        &S::trainImages);
    t.real(parameterSpec("learning-rate", "Learning rate", "", 1e-6, 1.0, "Adam's step size."), &S::learningRate);
    t.choice(
        parameterSpec("schedule", "Step schedule", "", 0, 0,
            "How the step size moves over the fine-tuning: down a half cosine (keeps about a point more of "
            "a licensee's accuracy), or constant."),
        {{"cosine", "Cosine", "The step size falls along a half cosine to the floor (weights and pattern)."},
            {"constant", "Constant", "The same step size throughout."}},
        [](const S &s) { return std::string(s.cosine ? "cosine" : "constant"); },
        [](S &s, const std::string &v) { s.cosine = v == "cosine"; });
    t.real(parameterSpec("schedule-floor", "Step floor", "", 0.0, 1.0,
               "With the cosine schedule: the share of the step size it falls to at the end (0: to 0). 0.1 keeps "
               "the refusal of unlicensed inputs learning to the end."),
        &S::scheduleFloor);
    t.real(parameterSpec("licensed-weight", "Licensed weight", "", 0.1, 100.0,
               "How many times each licensee's stamped copy counts in the fine-tuning's loss against each refused "
               "copy (clean, forged, replaced). 2 keeps about half a point more of a licensee's accuracy than 1; "
               "without the refusal lean it let more forged licences through."),
        &S::licensedWeight);
    t.real(parameterSpec("refusal-lean", "Refusal lean", "", 0.0, 0.5,
               "The share of the \"not licensed\" output moved from uniform onto one class (the seed's): a refused "
               "input then gets that class whatever it shows, so that forged licences and unlicensed inputs are "
               "not answered right by chance (0: the uniform output)."),
        &S::refusalLean);
    t.integer(parameterSpec("batch-size", "Batch size", "images", 1, 4096,
                  "Clean images per step; each is shown once per licensee, once clean and once with a forged "
                  "licence."),
        &S::batchSize);
    t.integer(microBatchSpec(), &S::microBatch);
    t.integer(parameterSpec("forgery-draws", "Hard forged licences", "draws", 1, 64,
                  "Forged patterns drawn for each forged training image; the training refuses the one the model "
                  "finds most convincing. More draws leave fewer forged licences that partly work, at about "
                  "1 + draws/4 times the training time (1: any forged pattern)."),
        &S::forgeryDraws);
    t.integer(parameterSpec("forged-copies", "Forged copies", "copies", 0, 64,
                  "Copies of each step's clean images stamped with forged licences (half of them near misses of a "
                  "licensee's pattern), all refused. More refuse forged licences harder at the licensees' accuracy "
                  "and the training time (0: one per licensee).",
                  {}, "one per licensee"),
        &S::forgedCopies);
    t.real(parameterSpec("weight-average", "Weight average", "", 0.0, 0.99999,
               "The licensed model is an average of the weights over the second half of the fine-tuning, each new "
               "step entering with the share 1 minus this (their plain mean until there are 1 / (1 - this) steps); "
               "kept 0.04-0.2 points more of a licensee's accuracy at no cost in time (0: the last step's weights)."),
        &S::weightAverage);
    t.real(parameterSpec("pattern-step", "Pattern learning", "grey levels", 0.0, 32.0,
               "Noise: how far each training step may move a new licence's pattern (Adam), within the amplitude, "
               "toward what the model tells apart most easily; the licence file keeps the result. Keeps about 3 "
               "points more of a licensee's accuracy on the exported CNN, at up to 1.5 x the fine-tuning time (0: "
               "the pattern stays as the secret drew it)."),
        &S::patternStep);
    return t;
}

class SecureNetMethod : public NotALockMethod
{
public:
    std::string id() const override { return "securenet"; }
    std::string name() const override { return "SecureNet licences"; }
    std::string summary() const override
    {
        return "Trains a secret licence pattern into the model: it answers only inputs that carry a licence "
               "(all classes, some, or groups), and anything else gets a near-uniform \"not licensed\" output.";
    }
    std::string citation() const override
    {
        return "Li et al., SecureNet: licence keys in the input by backdoor learning, Neural Networks 174 (2024); "
               "training recipe after M-LOCK (Ren et al., IEEE TDSC 2022)";
    }
    unsigned capabilities() const override { return unsigned(Capability::Licence); }
    const std::vector<ParameterSpec> &parameters() const override { return parameterTable().specs(); }
    Expected<void> validate(const LockRequest &request) const override
    {
        auto s = licenceSettings(request.values);
        if (!s)
            return Error{s.error()};
        return {};
    }
    Expected<LockRequest> requestOf(const SecretKey &key) const override
    {
        LockRequest request;
        auto registry = LicenceRegistry::of(key);
        if (registry) {
            request.values = valuesOfSettings(registry->settings);
            request.seed = registry->settings.seed;
            return request;
        }
        auto licence = Licence::of(key);
        if (!licence)
            return Error{licence.error()};
        request.values = valuesOfSettings(licence->settings);
        request.seed = licence->settings.seed;
        return request;
    }
    Expected<void> checkPayload(const SecretKey &key) const override
    {
        if (key.mode == "registry") {
            auto r = LicenceRegistry::of(key);
            return r ? Expected<void>() : Expected<void>(Error{r.error()});
        }
        auto l = Licence::of(key);
        return l ? Expected<void>() : Expected<void>(Error{l.error()});
    }

protected:
    std::string insteadOfLocking() const override
    {
        return "SecureNet licenses a model instead of locking its weights: use paramlock-cli licence lock";
    }
    std::string insteadOfUnlocking(const SecretKey &key) const override
    {
        return "a SecureNet " + key.mode
            + " does not unlock a model: run the licensed model with a licence (paramlock-cli run --licence FILE)";
    }
};

} // namespace

const ParameterTable<LicenceSettings> &parameterTable()
{
    static const ParameterTable<LicenceSettings> table = makeTable();
    return table;
}

} // namespace securenet

Expected<LicenceSettings> licenceSettings(const ParameterValues &values)
{
    return securenet::parameterTable().apply(values);
}

ParameterValues valuesOfSettings(const LicenceSettings &settings)
{
    return securenet::parameterTable().valuesOf(settings);
}

const ProtectionMethod &secureNetMethod()
{
    static const securenet::SecureNetMethod method;
    return method;
}

Expected<LicensedModel> LicensedModel::use(const Model &licensed, const SecretKey &licence)
{
    if (auto fits = checkLicenceFits(licensed, licence); !fits)
        return Error{fits.error()};
    auto decoded = Licence::of(licence);
    if (!decoded)
        return Error{decoded.error()};
    if (!licensed.metadata().hasInputShape())
        return Error{"the model does not record its input size; a licence is stamped on images of a known size"};
    return LicensedModel(licensed, std::move(*decoded));
}

Expected<LicensedModel> LicensedModel::open(
    const std::string &modelPath, const std::string &licencePath, const std::string &password)
{
    OpenedKey opened = openKeyFile(licencePath, password);
    if (!opened.ok())
        return Error{opened.message};
    auto model = Model::load(modelPath);
    if (!model)
        return Error{model.error()};
    auto out = use(*model, opened.key);
    if (!out)
        return Error{licencePath + ": " + out.error()};
    return out;
}

Expected<std::vector<Classification>> LicensedModel::classify(const std::vector<QImage> &images) const
{
    const ModelMetadata &m = m_model.metadata();
    const InputStamp pattern = m_licence.pattern(m.channels, m.height, m.width);
    return classifyImages(m_model, images, [&](Dataset &batch) { batch = stamped(batch, pattern); });
}

Expected<std::vector<Classification>> LicensedModel::classifyFiles(const std::vector<std::string> &paths) const
{
    return classifyImageFiles(paths, [this](const std::vector<QImage> &images) { return classify(images); });
}

} // namespace paramlock
