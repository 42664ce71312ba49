#include "experiments.h"

#include "training.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

namespace paramlock {

namespace {

double secondsSince(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/** Rebuilds the locked model after the first `count` steps of a lock, from the original. */
class Replay
{
public:
    Replay(const Model &original, const std::vector<AdvParamsStep> &steps) : m_model(original.clone()), m_steps(steps)
    {
        for (const AdvParamsStep &s : steps)
            if (s.flatIndex >= 0 && !m_layers.count(s.layer))
                m_layers[s.layer] = *original.weights(s.layer);
    }

    /** Applies steps up to (not including) `end`; returns the model and the distinct weights changed. */
    std::pair<Model, int64_t> upTo(size_t end)
    {
        std::map<std::string, std::vector<float>> values = m_layers;
        std::set<std::pair<std::string, int64_t>> changed;
        for (size_t i = 0; i < end && i < m_steps.size(); ++i) {
            const AdvParamsStep &s = m_steps[i];
            if (s.flatIndex < 0)
                continue;
            auto &layer = values[s.layer];
            layer[size_t(s.flatIndex)] = s.value;
            changed.insert({s.layer, s.flatIndex});
            if (s.partnerIndex >= 0) {
                layer[size_t(s.partnerIndex)] = s.partnerValue;
                changed.insert({s.layer, s.partnerIndex});
            }
        }
        // A weight moved back to its original value no longer counts.
        int64_t distinct = 0;
        for (const auto &[layer, index] : changed)
            distinct += values[layer][size_t(index)] != m_layers[layer][size_t(index)] ? 1 : 0;
        for (const auto &[name, layer] : values)
            m_model.setWeights(name, layer);
        return {m_model, distinct};
    }

private:
    Model m_model;
    const std::vector<AdvParamsStep> &m_steps;
    std::map<std::string, std::vector<float>> m_layers;
};

/** Locks quietly: the sweep reports its own progress. */
class Muted : public Progress
{
public:
    explicit Muted(Progress &outer) : m_outer(outer) { }
    bool advance(double, const std::string &) override { return !m_outer.cancelled(); }
    bool lockStep(const LockStep &) override { return !m_outer.cancelled(); }

private:
    Progress &m_outer;
};

} // namespace

Expected<Sweep> lossThresholdSweep(const Model &model, const Dataset &encryptionSet, const Dataset &test,
    AdvParamsOptions options, const std::vector<double> &thresholds, Progress &progress, int64_t evalLimit)
{
    if (thresholds.empty())
        return Error{"no loss thresholds to sweep"};
    if (options.settings.mode != LockMode::Paper)
        return Error{"the T_loss sweep is for paper mode (strong mode stops at a target accuracy)"};
    const auto start = std::chrono::steady_clock::now();
    options.settings.lossThreshold = *std::max_element(thresholds.begin(), thresholds.end());
    Muted muted(progress);
    progress.advance(0.0, "locking once with T_loss = " + std::to_string(options.settings.lossThreshold));
    auto locked = lockModel(model, encryptionSet, options, muted);
    if (!locked)
        return Error{locked.error()};
    Sweep sweep;
    sweep.kind = "t-loss";
    sweep.xLabel = "loss threshold T_loss";
    Replay replay(model, locked->steps);
    for (size_t i = 0; i < thresholds.size(); ++i) {
        // Algorithm 1 applies a step only while the loss before it is at most T_loss.
        size_t end = 0;
        while (end < locked->steps.size() && locked->steps[end].loss <= thresholds[i])
            ++end;
        auto [state, encrypted] = replay.upTo(end);
        auto acc = accuracyOn(state, test, evalLimit);
        if (!acc)
            return Error{acc.error()};
        sweep.points.push_back({thresholds[i], {}, *acc, encrypted});
        if (!progress.advance(double(i + 1) / double(thresholds.size()), "evaluating the sweep"))
            return Error{"sweep cancelled"};
    }
    sweep.seconds = secondsSince(start);
    return sweep;
}

Expected<Sweep> encryptedCountSweep(const Model &model, const Dataset &encryptionSet, const Dataset &test,
    const AdvParamsOptions &options, const std::vector<int64_t> &counts, Progress &progress, int64_t evalLimit)
{
    if (counts.empty())
        return Error{"no weight counts to sweep"};
    const auto start = std::chrono::steady_clock::now();
    Muted muted(progress);
    progress.advance(0.0, "locking once");
    auto locked = lockModel(model, encryptionSet, options, muted);
    if (!locked)
        return Error{locked.error()};
    Sweep sweep;
    sweep.kind = "n-e";
    sweep.xLabel = "encrypted weights n_e";
    Replay replay(model, locked->steps);
    // The shortest prefix that reaches each count.
    std::vector<int64_t> wanted = counts;
    std::sort(wanted.begin(), wanted.end());
    size_t end = 0;
    for (size_t i = 0; i < wanted.size(); ++i) {
        std::pair<Model, int64_t> state = replay.upTo(end);
        while (state.second < wanted[i] && end < locked->steps.size())
            state = replay.upTo(++end);
        auto acc = accuracyOn(state.first, test, evalLimit);
        if (!acc)
            return Error{acc.error()};
        sweep.points.push_back({double(state.second), {}, *acc, state.second});
        if (!progress.advance(double(i + 1) / double(wanted.size()), "evaluating the sweep"))
            return Error{"sweep cancelled"};
        if (state.second < wanted[i])
            break; // the lock stopped before reaching the larger counts
    }
    sweep.seconds = secondsSince(start);
    return sweep;
}

Expected<Sweep> perLayerSweep(const Model &model, const Dataset &encryptionSet, const Dataset &test,
    AdvParamsOptions options, Progress &progress, int64_t evalLimit)
{
    const auto start = std::chrono::steady_clock::now();
    const std::vector<std::string> layers = model.layerNames();
    if (layers.empty())
        return Error{"the model has no conv/FC layer"};
    Sweep sweep;
    sweep.kind = "layers";
    sweep.xLabel = "locked layer";
    options.settings.randomLayers = 0;
    options.settings.allLayers = false;
    Muted muted(progress);
    for (size_t i = 0; i < layers.size(); ++i) {
        options.settings.layers = {layers[i]};
        auto locked = lockModel(model, encryptionSet, options, muted);
        if (!locked && progress.cancelled())
            return Error{"sweep cancelled"};
        SweepPoint point{double(i), layers[i], 0.0, 0};
        if (locked) {
            auto acc = accuracyOn(locked->locked, test, evalLimit);
            if (!acc)
                return Error{acc.error()};
            point.accuracy = *acc;
            point.encrypted = locked->encryptedCount();
        } else {
            auto acc = accuracyOn(model, test, evalLimit); // nothing changed in this layer
            if (!acc)
                return Error{acc.error()};
            point.accuracy = *acc;
        }
        sweep.points.push_back(point);
        if (!progress.advance(double(i + 1) / double(layers.size()), "locking " + layers[i] + " alone"))
            return Error{"sweep cancelled"};
    }
    sweep.seconds = secondsSince(start);
    return sweep;
}

} // namespace paramlock
