// The dense lock behind the method seam: its parameters, declared once, and what the Lock capability asks of it.
#include "dense.h"

#include "keyedmethod.h"
#include "parametertable.h"

namespace paramlock {

namespace dense {

const ParameterTable<DenseSettings> &parameterTable();

namespace {

using S = DenseSettings;

ParameterTable<S> makeTable()
{
    ParameterTable<S> t;
    ParameterSpec layers = parameterSpec("layers", "Layers to lock", "", 0, 0,
        "Which conv/FC layers are permuted: all (the default), k drawn with the seed, or named ones (names from "
        "'info'; name the first k to lock the first k).");
    layers.type = ParameterType::Layers;
    t.custom(
        layers, [](const S &s) { return ParameterValue(s.layers); },
        [](S &s, const ParameterValue &v) { s.layers = std::get<LayerSelection>(v); });
    return t;
}

class DenseMethod : public KeyedLockMethod<DenseKey>
{
public:
    std::string id() const override { return "dense"; }
    std::string name() const override { return "Dense lock"; }
    std::string summary() const override
    {
        return "Moves every weight of the chosen layers to another place in its layer by a permutation only the key "
               "reproduces: each layer keeps its values, the model keeps nothing of its training.";
    }
    std::string citation() const override
    {
        return "ParamLock's own: a keyed permutation of every weight (ChaCha20 keystream, Fisher-Yates shuffle)";
    }
    unsigned capabilities() const override { return unsigned(Capability::Lock); }
    const std::vector<ParameterSpec> &parameters() const override { return parameterTable().specs(); }

    Expected<void> validate(const LockRequest &request) const override
    {
        auto settings = denseSettings(request.values);
        if (!settings)
            return Error{settings.error()};
        return {};
    }
    Expected<void> checkModel(const Model &model, const LockRequest &request) const override
    {
        auto settings = settingsOf(request);
        if (!settings)
            return Error{settings.error()};
        auto layers = denseLayers(model, *settings);
        if (!layers)
            return Error{layers.error()};
        return {};
    }
    Expected<std::vector<int64_t>> drawSample(const Dataset &train, const LockRequest &request) const override
    {
        (void)train;
        (void)request;
        return std::vector<int64_t>{}; // the permutation needs no data
    }
    Expected<LockResult> lock(Model &model, bool inPlace, const Dataset &sample, const LockRequest &request,
        Progress &progress) const override
    {
        (void)sample;
        auto settings = settingsOf(request);
        if (!settings)
            return Error{settings.error()};
        auto locked = denseLock(model, inPlace, *settings, progress);
        if (!locked)
            return Error{locked.error()};
        return LockResult(std::move(*locked));
    }
    LockChartSpec lockChart(const LockRequest &request) const override
    {
        (void)request;
        LockChartSpec chart;
        chart.title = "Layers permuted";
        chart.xLabel = "layer";
        chart.yLabel = "-";
        return chart;
    }

protected:
    KeyFit checkDecoded(const Model &model, const DenseKey &secret) const override
    {
        KeyFit fit;
        fit.state = KeyFit::State::BadEntries;
        for (const DenseLayer &l : secret.layers) {
            auto values = model.weights(l.layer);
            if (!values) {
                fit.message = "the key names the layer " + l.layer + ", which this model does not have";
                return fit;
            }
            if (int64_t(values->size()) != l.count) {
                fit.message = "the key's layer " + l.layer + " has " + std::to_string(l.count)
                    + " weights, the model's " + std::to_string(values->size());
                return fit;
            }
        }
        fit.state = KeyFit::State::Fits;
        fit.message = "the key fits this model";
        return fit;
    }
    Expected<void> restoreDecoded(
        Model &model, const SecretKey &key, const DenseKey &secret, UnlockTiming &timing) const override
    {
        return denseRestore(model, key, secret, timing);
    }

private:
    static Expected<S> settingsOf(const LockRequest &request)
    {
        auto settings = denseSettings(request.values);
        if (!settings)
            return settings;
        settings->seed = request.seed;
        return settings;
    }
};

} // namespace

const ParameterTable<DenseSettings> &parameterTable()
{
    static const ParameterTable<DenseSettings> table = makeTable();
    return table;
}

} // namespace dense

Expected<DenseSettings> denseSettings(const ParameterValues &values)
{
    return dense::parameterTable().apply(values);
}

ParameterValues valuesOfSettings(const DenseSettings &settings)
{
    return dense::parameterTable().valuesOf(settings);
}

const ProtectionMethod &denseMethod()
{
    static const dense::DenseMethod method;
    return method;
}

} // namespace paramlock
