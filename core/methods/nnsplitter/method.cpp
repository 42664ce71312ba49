// NNSplitter behind the method seam: its parameters, declared once, and what the Lock capability asks of it.
#include "internal.h"

namespace paramlock {

namespace nnsplitter {

namespace {

using S = NNSplitterSettings;

ParameterTable<S> makeTable()
{
    ParameterTable<S> t;
    t.choice(
        parameterSpec("selector", "Filter selector", "", 0, 0,
            "How the filters to obfuscate are chosen: by the gradient of their window weights (one pass), the "
            "best of N random draws, or the paper's reinforcement-learning controller."),
        {{"saliency", "Saliency ranking",
             "Ranks each layer's filters by the gradient mass of their window weights on one pass over the data."},
            {"random", "Best of N random draws",
                "Draws N filter sets, scores each by a short obfuscation, keeps the best."},
            {"reinforce", "RL controller (paper)",
                "A policy over each layer's filters learnt by REINFORCE from N short obfuscations."}},
        [](const S &s) { return selectorId(s.selector); },
        [](S &s, const std::string &v) { s.selector = *selectorFromId(v); });
    t.integer(parameterSpec("filters", "Filters per layer k", "filters", 1, 1e6,
                  "How many output filters (rows of a fully-connected layer) of each eligible layer hold obfuscated "
                  "weights (the paper's k for ResNet-18)."),
        &S::filtersPerLayer);
    t.flag(parameterSpec("pointwise", "1x1 convolutions", "", 0, 0,
               "Let 1x1 convolutions hold obfuscated weights too (by default 3x3 and larger convolutions and "
               "fully-connected layers)."),
        &S::pointwise);
    t.integer(parameterSpec("max-weights", "Weight budget", "weights", 0, 1e9,
                  "How many weights the window takes: the ones nearest its centre inside the chosen filters.", {},
                  "auto: " + nnSplitterBudgetRule()),
        &S::maxWeights);
    t.real(parameterSpec("centre", "Window centre c", "", -1e6, 1e6,
               "Only weights whose value lies near c are obfuscated, so the key weights look typical.", {},
               "auto: the mean of the convolution weights"),
        &S::centre);
    t.real(parameterSpec("window", "Window half-width ε", "", 0.0, 1e6,
               "Obfuscate every weight of the chosen filters with |w - c| < ε, whatever their number.", {},
               "auto: the width that holds the weight budget"),
        &S::window);
    t.choice(
        parameterSpec("range", "Clamp range", "", 0, 0,
            "Where an obfuscated weight may go: the model-wide weight range (the authors') or its own layer's."),
        {{"model", "Model-wide range", "[w_min, w_max] over every conv/FC weight (the authors' code)."},
            {"layer", "Its layer's range", "No layer's minimum or maximum changes."}},
        [](const S &s) { return clampRangeId(s.range); },
        [](S &s, const std::string &v) { s.range = v == "layer" ? ClampRange::Layer : ClampRange::Model; });
    t.real(parameterSpec(
               "learning-rate", "Learning rate", "", 1e-6, 10.0, "Adam's step in the gradient ascent (the authors')."),
        &S::learningRate);
    t.integer(parameterSpec("samples", "Training images", "images", 1, 1e7,
                  "Training images per epoch of the ascent, drawn with the seed from the training split."),
        &S::samples);
    t.integer(parameterSpec("validation", "Validation images", "images", 1, 1e7,
                  "Images of the validation split that early stopping reads: drawn from the training split, apart "
                  "from the training images; never the test set."),
        &S::validation);
    t.integer(parameterSpec("batch-size", "Batch size", "images", 1, 1e5, "Images per Adam step."), &S::batchSize);
    t.integer(parameterSpec(
                  "max-epochs", "Epochs at most", "epochs", 1, 1000, "The ascent's epoch limit (the authors' is 100)."),
        &S::maxEpochs);
    t.integer(parameterSpec("patience", "Patience", "epochs", 1, 1000,
                  "Stop after this many epochs without a further drop of the validation accuracy (the authors')."),
        &S::patience);
    t.integer(parameterSpec("restarts", "Restarts", "attempts", 0, 100,
                  "When the lock ends above 1.2 x random guess, start the ascent again from the original values with "
                  "another batch order, up to this many times; the lowest-accuracy attempt is kept."),
        &S::restarts);
    t.real(parameterSpec("target-accuracy", "Target accuracy", "fraction", 0.0, 0.999,
               "Stop at once when the validation accuracy is at most this.", {}, "auto: random guess"),
        &S::targetAccuracy);
    t.integer(parameterSpec("draws", "Draws / episodes", "filter sets", 1, 1000,
                  "The random selector's draws, or the controller's episodes (5 per policy update); each costs "
                  "probe-epochs of the ascent."),
        &S::draws);
    t.integer(parameterSpec("probe-epochs", "Probe epochs", "epochs", 1, 100,
                  "Epochs of the short obfuscation that scores a random draw or an episode."),
        &S::probeEpochs);
    t.integer(parameterSpec("probe-samples", "Probe images", "images", 1, 1e7,
                  "Training images of that short obfuscation (the first of the training images)."),
        &S::probeSamples);
    return t;
}

class NNSplitterMethod : public KeyedLockMethod<NNSplitterKey>
{
public:
    std::string id() const override { return kMethodId; }
    std::string name() const override { return "NNSplitter"; }
    std::string summary() const override
    {
        return "Optimises a few typical-looking weights inside chosen filters by gradient ascent until the model is "
               "useless; the key holds their original values.";
    }
    std::string citation() const override
    {
        return "Zhou, Luo, Ren, Xu, NNSplitter: An Active Defense Solution for DNN Model via Automated Weight "
               "Obfuscation, ICML 2023";
    }
    unsigned capabilities() const override { return unsigned(Capability::Lock); }
    const std::vector<ParameterSpec> &parameters() const override { return parameterTable().specs(); }

    Expected<void> validate(const LockRequest &request) const override
    {
        auto settings = nnSplitterSettings(request.values);
        if (!settings)
            return Error{settings.error()};
        return {};
    }
    Expected<void> checkModel(const Model &model, const LockRequest &request) const override
    {
        auto settings = nnSplitterSettings(request.values);
        if (!settings)
            return Error{settings.error()};
        if (eligibleLayers(model, settings->pointwise).empty())
            return Error{"the model has no layer NNSplitter can obfuscate (3x3 or larger convolutions, "
                         "fully-connected layers; 1x1 convolutions with --pointwise)"};
        return {};
    }
    Expected<std::vector<int64_t>> drawSample(const Dataset &train, const LockRequest &request) const override
    {
        auto settings = settingsOf(request);
        if (!settings)
            return Error{settings.error()};
        return nnSplitterSample(train, *settings);
    }
    Expected<LockResult> lock(Model &model, bool inPlace, const Dataset &sample, const LockRequest &request,
        Progress &progress) const override
    {
        auto settings = settingsOf(request);
        if (!settings)
            return Error{settings.error()};
        auto locked = nnSplitterLock(model, inPlace, sample, *settings, progress);
        if (!locked)
            return Error{locked.error()};
        return LockResult(std::move(*locked));
    }
    LockChartSpec lockChart(const LockRequest &request) const override
    {
        (void)request;
        LockChartSpec chart;
        chart.title = "Validation loss and accuracy per epoch";
        chart.xLabel = "epoch";
        chart.yLabel = "validation cross-entropy";
        chart.accuracyLabel = "validation accuracy";
        return chart;
    }

protected:
    KeyFit checkDecoded(const Model &model, const NNSplitterKey &secret) const override
    {
        return checkEntries(model, secret);
    }
    Expected<void> restoreDecoded(
        Model &model, const SecretKey &key, const NNSplitterKey &secret, UnlockTiming &timing) const override
    {
        return restoreOriginals(model, key, secret, timing);
    }

private:
    static Expected<S> settingsOf(const LockRequest &request)
    {
        auto settings = nnSplitterSettings(request.values);
        if (!settings)
            return settings;
        settings->seed = request.seed;
        return settings;
    }
};

} // namespace

const ParameterTable<NNSplitterSettings> &parameterTable()
{
    static const ParameterTable<NNSplitterSettings> table = makeTable();
    return table;
}

} // namespace nnsplitter

Expected<NNSplitterSettings> nnSplitterSettings(const ParameterValues &values)
{
    return nnsplitter::parameterTable().apply(values);
}

ParameterValues valuesOfSettings(const NNSplitterSettings &settings)
{
    return nnsplitter::parameterTable().valuesOf(settings);
}

const ProtectionMethod &nnSplitterMethod()
{
    static const nnsplitter::NNSplitterMethod method;
    return method;
}

} // namespace paramlock
