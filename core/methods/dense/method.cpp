// The dense lock behind the method seam: its parameters, declared once, and what the Lock capability asks of it.
#include "dense.h"

#include "keyedmethod.h"
#include "parametertable.h"
#include "training.h"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <random>

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

    /** The first 1, 2, 4, ... layers and all of them: how much of the model must be permuted to leave nothing. */
    std::vector<LabelledRequest> frontierRequests(const Model &model) const override
    {
        const std::vector<LayerInfo> layers = model.layers();
        std::vector<LabelledRequest> requests;
        for (size_t k = 1; k < layers.size(); k *= 2) {
            LayerSelection first{LayerSelection::Kind::Named, 0, {}};
            for (size_t i = 0; i < k; ++i)
                first.names.push_back(layers[i].name);
            LabelledRequest r{
                k == 1 ? "first layer (" + layers[0].module + ")" : "first " + std::to_string(k) + " layers", {}};
            r.request.values.set("layers", first);
            requests.push_back(r);
        }
        requests.push_back({"all " + std::to_string(layers.size()) + " layers", {}});
        return requests;
    }
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
    /** The permutation needs no data; a seeded draw of training images checks that a secret leaves nothing. */
    Expected<std::vector<int64_t>> drawSample(const Dataset &train, const LockRequest &request) const override
    {
        const int64_t n = std::min<int64_t>(kCheckImages, train.size());
        std::vector<int64_t> order(static_cast<size_t>(train.size()));
        std::iota(order.begin(), order.end(), 0);
        std::mt19937_64 rng(request.seed ^ 0xd3a5e10cULL);
        std::shuffle(order.begin(), order.end(), rng);
        order.resize(size_t(n));
        return order;
    }
    /**
     * A permutation of a small network occasionally keeps a little of what it knew (LeNet-5: 2 of 5 secrets left
     * 12.1% where random guess is 10%). With training images to check on, a secret whose locked model scores above
     * 1.2 x random guess on them is drawn again, up to kDraws secrets; the lowest-scoring one is kept.
     */
    Expected<LockResult> lock(Model &model, bool inPlace, const Dataset &sample, const LockRequest &request,
        Progress &progress) const override
    {
        auto settings = settingsOf(request);
        if (!settings)
            return Error{settings.error()};
        const int classes = model.metadata().classCount > 0 ? model.metadata().classCount : sample.classCount;
        const double target = 1.2 / double(std::max(2, classes));
        const auto start = std::chrono::steady_clock::now();
        DenseSecret best{};
        double bestAccuracy = 2.0;
        for (int draw = 0; draw < kDraws; ++draw) {
            auto locked = denseLock(model, inPlace, *settings, progress);
            if (!locked)
                return Error{locked.error()};
            if (sample.size() == 0)
                return LockResult(std::move(*locked));
            auto accuracy = accuracyOn(locked->locked, sample);
            if (!accuracy) {
                if (inPlace)
                    rollBack(model, *locked);
                return Error{accuracy.error()};
            }
            if (*accuracy <= target)
                return finish(std::move(*locked), draw + 1, start);
            if (*accuracy < bestAccuracy) {
                bestAccuracy = *accuracy;
                best = locked->secret.secret;
            }
            if (inPlace)
                rollBack(model, *locked);
        }
        auto locked = denseLock(model, inPlace, *settings, progress, &best);
        if (!locked)
            return Error{locked.error()};
        return finish(std::move(*locked), kDraws, start);
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
    static constexpr int64_t kCheckImages = 1000;
    static constexpr int kDraws = 5;

    /** Puts an in-place lock's weights back before another secret is drawn. */
    static void rollBack(Model &model, const DenseLock &locked)
    {
        UnlockTiming timing;
        (void)denseRestore(model, locked.key, locked.secret, timing);
    }
    static LockResult finish(DenseLock locked, int draws, std::chrono::steady_clock::time_point start)
    {
        locked.iterations = draws;
        locked.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (draws > 1)
            locked.stopReason += "; secret " + std::to_string(draws) + " of at most " + std::to_string(kDraws)
                + " drawn (an earlier one left more than 1.2 x random guess on " + std::to_string(kCheckImages)
                + " training images)";
        return LockResult(std::move(locked));
    }

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
