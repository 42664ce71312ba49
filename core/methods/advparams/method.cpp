// AdvParams behind the method seam: its parameters, declared once, and what the Lock capability asks of it.
#include "internal.h"

#include "advparamsattacks.h"

#include <QString>

#include <algorithm>

namespace paramlock {

namespace advparams {

namespace {

using S = AdvParamsSettings;

LayerSelection selectionOf(const S &s)
{
    LayerSelection out;
    if (s.allLayers) {
        out.kind = LayerSelection::Kind::All;
    } else if (s.randomLayers > 0) {
        out.kind = LayerSelection::Kind::Random;
        out.random = s.randomLayers;
    } else if (!s.layers.empty()) {
        out.kind = LayerSelection::Kind::Named;
        out.names = s.layers;
    }
    return out;
}

void setSelection(S &s, const LayerSelection &v)
{
    s.allLayers = v.kind == LayerSelection::Kind::All;
    s.randomLayers = v.kind == LayerSelection::Kind::Random ? v.random : 0;
    s.layers = v.kind == LayerSelection::Kind::Named ? v.names : std::vector<std::string>{};
}

ParameterTable<S> makeTable()
{
    const std::vector<std::string> paper = {"paper"}, strong = {"strong"};
    ParameterTable<S> t;
    t.choice(
        parameterSpec("mode", "Mode", "", 0, 0,
            "How weights are chosen and changed: strong (ParamLock's lock) or paper (AdvParams Algorithm 1 as "
            "published)."),
        {{"strong", "Strong (ParamLock)",
             "Swaps a few weights' values inside their layer, chosen to hurt accuracy most; the weight histogram "
             "does not change at all."},
            {"paper", "Paper (AdvParams Algorithm 1)", "The published algorithm with the paper's settings."}},
        [](const S &s) { return modeId(s.mode); }, [](S &s, const std::string &v) { s.mode = *modeFromId(v); });
    ParameterSpec layers = parameterSpec("layers", "Layers to lock", "", 0, 0,
        "Which conv/FC layers may change: all, k drawn with the seed, or named ones (names from 'info'). By default "
        "the strong mode takes all and the paper mode "
            + std::to_string(kPaperRandomLayers) + " random ones (the paper's Fashion-MNIST setting).");
    layers.type = ParameterType::Layers;
    t.custom(
        layers, [](const S &s) { return ParameterValue(selectionOf(s)); },
        [](S &s, const ParameterValue &v) { setSelection(s, std::get<LayerSelection>(v)); });
    t.integer(parameterSpec("samples", "Encryption set N", "images", 1, 1e7,
                  "How many training images guide the lock (the encryption set), drawn with the seed (the default is "
                  "the paper's)."),
        &S::samples);
    t.flag(parameterSpec(
               "class-balanced", "Class-balanced set", "", 0, 0, "Draw the encryption set evenly from every class."),
        &S::classBalanced);
    t.real(parameterSpec("theta", "Step θ", "× layer range", 0.001, 1.0,
               "Each step moves a weight by theta × its layer's range (the default is the paper's).", paper),
        &S::theta);
    t.real(parameterSpec("alpha", "Margin α", "× layer range", 0.0, 0.49,
               "Changed weights keep alpha × range away from the layer's min and max, so nothing sticks out (the "
               "default is the paper's)."),
        &S::alpha);
    t.real(parameterSpec("t-loss", "Loss threshold T_loss", "", 0.001, 1e6,
               "Stop once the loss on the encryption set exceeds this (the default is the paper's).", paper),
        &S::lossThreshold);
    t.integer(parameterSpec("max-iter", "Steps per layer I", "steps", 1, 1e6,
                  "Iteration budget I: steps per locked layer (the default is the paper's).", paper),
        &S::maxIterations);
    t.integer(parameterSpec("max-weights", "Weight budget", "weights", 0, 1e9,
                  "Change at most this many weights; the lock stops earlier once it reaches its target.", strong,
                  "auto: " + budgetRule()),
        &S::maxWeights);
    t.real(parameterSpec("target-accuracy", "Target accuracy", "fraction", 0.0, 0.999,
               "Stop once the encryption-set accuracy is at most this (auto: 0.8 × random guess, a margin for the "
               "test images the lock never saw, which score up to 2 points higher).",
               strong, "auto: 0.8 × random guess"),
        &S::targetAccuracy);
    t.integer(parameterSpec("candidates", "Candidates", "swaps", 1, 1000,
                  "The secret seed draws each swap among this many of the best, so that re-running the search does "
                  "not retrace the lock.",
                  strong),
        &S::candidates);
    t.flag(parameterSpec("lookahead", "Lookahead", "", 0, 0,
               "Measure each candidate's real gain with a forward pass before the draw (off: the first-order gain "
               "alone, faster per step, more weights).",
               strong),
        &S::lookahead);
    t.integer(parameterSpec("search-sample", "Lookahead sample", "images", 0, 1e6,
                  "The lookahead measures each candidate on this many encryption-set images, drawn anew every step "
                  "among those the lock has not yet pushed far past wrong, and the gradient skips the others: faster, "
                  "but the weight count varies more (0: the whole set).",
                  strong),
        &S::searchSample);
    t.integer(parameterSpec("batch-size", "Chunk size", "images", 0, 1e6,
                  "Encryption-set chunk of the forward and backward passes; recorded in the key, since another "
                  "chunking can change the last bits of a sum.",
                  {}, "the default (" + std::to_string(S{}.chunkSize) + "; keys made before it was recorded)"),
        &S::chunkSize);
    return t;
}

class AdvParamsMethod : public KeyedLockMethod<AdvParamsKey>
{
public:
    std::string id() const override { return kMethodId; }
    std::string name() const override { return "AdvParams"; }
    std::string summary() const override
    {
        return "Changes a handful of well-chosen weights, each inside its layer's range, until the model is useless; "
               "the key restores it bit for bit.";
    }
    std::string citation() const override
    {
        return "Xue et al., AdvParams: An Active DNN Intellectual Property Protection Technique via Adversarial "
               "Perturbation Based Parameter Encryption, IEEE TETC 2022; ParamLock's strong mode swaps pairs of "
               "weights so each layer's value distribution is unchanged";
    }
    unsigned capabilities() const override { return unsigned(Capability::Lock); }
    const std::vector<ParameterSpec> &parameters() const override { return parameterTable().specs(); }

    std::string modeOf(const ParameterValues &values) const override
    {
        const ParameterValue *mode = values.find("mode");
        return mode ? std::get<std::string>(*mode) : modeId(S{}.mode);
    }
    ParameterValues modeDefaults(const std::string &mode) const override
    {
        ParameterValues values;
        LayerSelection layers;
        layers.kind = mode == modeId(LockMode::Paper) ? LayerSelection::Kind::Random : LayerSelection::Kind::All;
        layers.random = kPaperRandomLayers;
        values.set("layers", layers);
        return values;
    }
    std::vector<LabelledRequest> frontierRequests(const Model &model) const override
    {
        (void)model;
        std::vector<LabelledRequest> requests;
        for (LockMode mode : {LockMode::Paper, LockMode::Strong}) {
            LabelledRequest r{modeId(mode) + " mode", {}};
            r.request.values.set("mode", modeId(mode));
            requests.push_back(r);
        }
        return requests;
    }
    Expected<void> validate(const LockRequest &request) const override
    {
        auto settings = settingsFromValues(request.values);
        if (!settings)
            return Error{settings.error()};
        return {};
    }

    Expected<void> checkModel(const Model &model, const LockRequest &request) const override
    {
        auto settings = settingsOf(request);
        if (!settings)
            return Error{settings.error()};
        auto layers = resolveLayerSet(model, *settings);
        if (!layers)
            return Error{layers.error()};
        return {};
    }
    Expected<std::vector<int64_t>> drawSample(const Dataset &train, const LockRequest &request) const override
    {
        auto settings = settingsOf(request);
        if (!settings)
            return Error{settings.error()};
        return encryptionSetIndices(train, *settings);
    }
    Expected<LockResult> lock(Model &model, bool inPlace, const Dataset &sample, const LockRequest &request,
        Progress &progress) const override
    {
        auto settings = settingsOf(request);
        if (!settings)
            return Error{settings.error()};
        AdvParamsOptions options;
        options.settings = *settings;
        auto locked =
            inPlace ? lockModelInPlace(model, sample, options, progress) : lockModel(model, sample, options, progress);
        if (!locked)
            return Error{locked.error()};
        return LockResult(std::move(*locked));
    }
    LockChartSpec lockChart(const LockRequest &request) const override
    {
        LockChartSpec chart;
        auto settings = settingsOf(request);
        if (settings && settings->mode == LockMode::Paper) {
            chart.threshold = settings->lossThreshold;
            chart.thresholdLabel = "T_loss";
        }
        if (settings && settings->mode == LockMode::Strong) {
            chart.title = "The encryption set while locking";
            chart.accuracyLabel = "encryption-set accuracy"; // the strong lock stops on it
        }
        return chart;
    }
    std::vector<AnalysisSpec> analyses() const override { return advParamsAnalyses(); }
    Expected<Analysis> runAnalysis(
        const std::string &kind, const AnalysisContext &context, Progress &progress) const override
    {
        return runAdvParamsAnalysis(kind, context, progress);
    }
    std::string repairName() const override { return "adaptive attack"; }
    /** Every variant of the adaptive attack (Table V's and the swap undoing); the best counts. */
    Expected<double> repair(const Model &locked, const Dataset &images, const Dataset &test, int64_t evalLimit,
        int64_t passBudget, Progress &progress) const override
    {
        const AttackerSplit split{images, test};
        const auto variants = adaptiveVariants();
        double best = -1.0;
        for (size_t i = 0; i < variants.size(); ++i) {
            AdaptiveOptions o;
            o.variant = variants[i];
            if (passBudget > 0 && images.size() > 0)
                o.maxPasses = std::max<int64_t>(1, passBudget / images.size());
            auto r = adaptiveAttack(locked, split, o, nullptr, progress, evalLimit);
            if (!r)
                return Error{r.error()};
            best = std::max(best, r->accuracyAfter);
            if (!progress.advance(double(i + 1) / double(variants.size()), "adaptive attack"))
                return Error{"analysis cancelled"};
        }
        return best;
    }

protected:
    KeyFit checkDecoded(const Model &model, const AdvParamsKey &secret) const override
    {
        return checkEntries(model, secret);
    }
    Expected<void> restoreDecoded(
        Model &model, const SecretKey &key, const AdvParamsKey &secret, UnlockTiming &timing) const override
    {
        return restoreWeights(model, key, secret, timing);
    }

private:
    static Expected<S> settingsOf(const LockRequest &request)
    {
        auto settings = settingsFromValues(request.values);
        if (!settings)
            return settings;
        settings->seed = request.seed;
        return settings;
    }
};

} // namespace

const ParameterTable<AdvParamsSettings> &parameterTable()
{
    static const ParameterTable<AdvParamsSettings> table = makeTable();
    return table;
}

} // namespace advparams

Expected<AdvParamsSettings> settingsFromValues(const ParameterValues &values)
{
    auto settings = advparams::parameterTable().apply(values);
    if (!settings)
        return settings;
    // The mode's own layer choice, where none was made.
    if (settings->layers.empty() && !settings->allLayers && settings->randomLayers == 0) {
        if (settings->mode == LockMode::Paper)
            settings->randomLayers = kPaperRandomLayers;
        else
            settings->allLayers = true;
    }
    return settings;
}

ParameterValues valuesOfSettings(const AdvParamsSettings &settings)
{
    return advparams::parameterTable().valuesOf(settings);
}

const ProtectionMethod &advParamsMethod()
{
    static const advparams::AdvParamsMethod method;
    return method;
}

} // namespace paramlock
