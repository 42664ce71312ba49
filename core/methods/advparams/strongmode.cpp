// ParamLock's strong mode: every step swaps the values of two weights of one layer, so each layer keeps its multiset
// of values (its histogram, mean, std, min and max do not move at all); the swaps are chosen jointly over all layers
// by a capped margin objective, their real gain measured before the draw, and the lock stops at a target accuracy
// on the encryption set or at a weight budget.
#include "lockrun.h"

#include "text.h"

#include <QString>

#include <algorithm>
#include <optional>
#include <random>

namespace paramlock::advparams {

namespace {

/** The `pool` best distinct swaps of this iteration over all layers (see swapSearch). */
std::vector<Swap> bestSwaps(const LockRun &run, int64_t pool)
{
    std::vector<SwapLayer> layers;
    for (const LayerState &l : run.layers)
        layers.push_back({l.gradient(), l.eligibility()});
    return swapSearch(layers, pool);
}

/**
 * The first-order gain misjudges swaps of values far apart (ReLUs switch, effects in one unit add up): measures
 * each candidate's real gain of the margin objective with a forward pass of the encryption set, and keeps those
 * that raise it nearly as much as the best one. On LeNet-5 and the DenseNet this reaches the target with 25-40%
 * fewer weights, for one forward pass per candidate.
 */
std::vector<Swap> measureGains(LockRun &run, const std::vector<Swap> &candidates, double marginBefore)
{
    run.result.lookaheadPasses += int64_t(candidates.size());
    // A swap changes one layer: the activations entering that layer's stage are those of the model as it stands, so
    // on a staged model each candidate's pass starts there. The candidates are measured from the lowest stage up,
    // carrying the activations from one stage to the next (at most one full forward pass for all of them); each value
    // is the full pass's, bit for bit, so the picks do not change.
    const bool staged = run.reuseActivations && run.impl.stageCount() > 1;
    std::vector<int> stageOf(candidates.size(), run.startStage);
    std::vector<size_t> order(candidates.size());
    for (size_t i = 0; i < candidates.size(); ++i) {
        order[i] = i;
        if (staged)
            stageOf[i] = std::max(run.startStage, run.impl.stageOf(run.layers[candidates[i].layer].report.layer));
    }
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return stageOf[a] < stageOf[b]; });
    std::vector<double> gains(candidates.size(), 0.0);
    std::vector<torch::Tensor> inputs;
    int inputStage = -1;
    for (size_t i : order) {
        const Swap &c = candidates[i];
        if (staged && stageOf[i] != inputStage) {
            inputs =
                inputStage < 0 ? activationsAt(run, stageOf[i]) : activationsAt(run, stageOf[i], &inputs, inputStage);
            inputStage = stageOf[i];
        }
        float *data = run.layers[c.layer].data;
        std::swap(data[c.first], data[c.second]);
        struct SwapBack
        {
            float *a, *b;
            ~SwapBack() { std::swap(*a, *b); }
        } swapBack{data + c.first, data + c.second};
        gains[i] = (staged ? marginFrom(run, inputStage, inputs) : marginNow(run)) - marginBefore;
    }
    std::vector<Swap> raising;
    for (size_t i = 0; i < candidates.size(); ++i) {
        if (gains[i] > 0.0) {
            raising.push_back(candidates[i]);
            raising.back().gain = gains[i];
        }
    }
    // The draw keeps the seed's say among near-equals only: drawing among every raising swap in proportion to its
    // gain needed 16-20 weights on LeNet-5 where keeping those within 80% of the best needs 12-14 (and the best
    // alone 12-16).
    constexpr double kNearBest = 0.8;
    double best = 0.0;
    for (const Swap &c : raising)
        best = std::max(best, c.gain);
    std::vector<Swap> nearBest;
    for (const Swap &c : raising)
        if (c.gain >= kNearBest * best)
            nearBest.push_back(c);
    return nearBest;
}

/** `count` positions drawn without replacement from `from`, in ascending order. */
std::vector<int64_t> drawSample(std::vector<int64_t> from, int64_t count, std::mt19937_64 &rng)
{
    for (size_t k = 0; k < size_t(count); ++k)
        std::swap(from[k], from[k + size_t(rng() % uint64_t(from.size() - k))]);
    from.resize(size_t(count));
    std::sort(from.begin(), from.end());
    return from;
}

/** How far beyond the cap a wrong sample stays in play. */
constexpr double kInPlayBeyondCap = 1.0;

} // namespace

/**
 * ParamLock's strong mode. Each step swaps the values of two weights of one
 * layer: the layer's multiset of values, and so its histogram, mean, std, min
 * and max, stays exactly as it was. Every iteration ranks, over all selected
 * layers, the swaps with the largest first-order gain of a capped margin
 * objective ((g_i - g_j)(w_j - w_i)), measures the real gain of the best few
 * (lookahead), and the secret seed draws one of the nearly best in proportion
 * to its gain, so that re-running the selection does not retrace it. Both
 * weights must lie in the layer's [T1, T2] and are never picked again. It stops when the model's accuracy on the
 * encryption set falls to the target, or at the weight budget.
 */
Expected<void> runStrongMode(LockRun &run, int64_t budget, double targetAccuracy)
{
    const AdvParamsSettings &s = run.settings;
    AdvParamsLock &result = run.result;
    std::mt19937_64 rng(s.seed ^ 0x9e3779b97f4a7c15ULL);
    const int64_t pool = std::max<int64_t>(1, s.candidates);
    run.targetAccuracy = targetAccuracy;
    double initialAccuracy = 1.0;
    double shown = 0.0; // the progress reported so far: it never moves back
    int lowestStage = run.impl.stageCount();
    for (const LayerState &l : run.layers)
        lowestStage = std::min(lowestStage, run.impl.stageOf(l.report.layer));
    startAt(run, lowestStage);
    for (LayerState &l : run.layers) {
        l.weight.set_requires_grad(true);
        l.bounded = true; // only weights inside [T1, T2] may move, and only to another such value
    }

    int firstOrderFallbacks = 0;
    // The lookahead's sample is drawn with a generator of its own, so that the draw of the swaps keeps its sequence.
    std::mt19937_64 sampleRng(s.seed ^ 0x5851f42d4c957f2dULL);
    int64_t sampledSteps = 0;
    for (int64_t changed = 0;;) {
        if (run.progress.cancelled())
            return Error{"locking cancelled"};
        AdvParamsStep step;
        step.iteration = result.iterations;
        // With a lookahead sample the gradient comes from a second pass over the samples in play (below); without,
        // from this one, over the whole set.
        const bool sampling = s.lookahead && s.searchSample > 0;
        const SetScores scores = scoreSet(run, !sampling);
        step.loss = scores.loss;
        const double accuracy = double(scores.correct) / double(run.total);
        step.accuracy = accuracy;
        if (result.iterations == 0) {
            result.initialLoss = step.loss;
            initialAccuracy = accuracy;
        }
        result.finalLoss = step.loss;
        result.finalAccuracy = accuracy;
        if (accuracy <= targetAccuracy) {
            result.reachedTarget = true;
            result.stopReason = "reached the target: encryption-set accuracy " + percentText(accuracy, 1)
                + " <= " + percentText(targetAccuracy, 1);
            break;
        }
        if (changed + 2 > budget) {
            result.notes.push_back("stopped at the budget of " + std::to_string(budget)
                + " weights with encryption-set accuracy " + percentText(accuracy, 1));
            result.stopReason = "stopped at the weight budget of " + std::to_string(budget)
                + " with encryption-set accuracy " + percentText(accuracy, 1) + ", above the target "
                + percentText(targetAccuracy, 1) + " (raise --max-weights)";
            break;
        }

        // In play: the samples right, or wrong by less than a unit beyond the cap. The others add no gradient, and
        // one swap rarely brings them back below the cap: the gradient pass leaves them out.
        std::vector<int64_t> playing;
        if (sampling) {
            for (size_t i = 0; i < scores.rawMargins.size(); ++i)
                if (scores.rawMargins[i] < kMarginCap + kInPlayBeyondCap)
                    playing.push_back(int64_t(i));
            SampleScope inPlay(run, playing);
            scoreSet(run, true);
        }
        std::vector<Swap> distinct = bestSwaps(run, pool);
        if (s.lookahead && !distinct.empty()) {
            std::optional<SampleScope> sample;
            if (sampling) {
                if (int64_t(playing.size()) > s.searchSample) {
                    playing = drawSample(playing, s.searchSample, sampleRng);
                    ++sampledSteps;
                }
                sample.emplace(run, playing);
            }
            // Where none of them really raises the capped margin (late in the lock, when swaps of far-apart values
            // bring back samples the cap had let go), fall back to the first-order draw: it may still lower the
            // accuracy, which is what the lock stops on.
            std::vector<Swap> measured = measureGains(run, distinct, sample ? marginNow(run) : scores.margin);
            if (measured.empty())
                ++firstOrderFallbacks;
            else
                distinct = std::move(measured);
        }
        if (distinct.empty()) {
            result.notes.push_back("no swap raises the objective any further");
            result.stopReason = "no swap lowers the accuracy any further (encryption-set accuracy "
                + percentText(accuracy, 1) + ", target " + percentText(targetAccuracy, 1) + ")";
            break;
        }
        double totalGain = 0.0;
        for (const Swap &c : distinct)
            totalGain += c.gain;
        double u = double(rng() >> 11) * 0x1.0p-53 * totalGain;
        size_t choice = 0;
        while (choice + 1 < distinct.size() && u >= distinct[choice].gain) {
            u -= distinct[choice].gain;
            ++choice;
        }
        const Swap &c = distinct[choice];
        LayerState &l = run.layers[c.layer];
        const float a = l.data[c.first];
        const float b = l.data[c.second];
        setWeight(l, c.first, b);
        setWeight(l, c.second, a);
        excludePosition(l.excluded, c.first);
        excludePosition(l.excluded, c.second);
        l.report.steps += 1;
        changed += 2;
        step.layerIndex = int(c.layer);
        step.layer = l.report.layer;
        step.flatIndex = c.first;
        step.value = b;
        step.partnerIndex = c.second;
        step.partnerValue = a;
        step.step = double(b) - double(a);
        step.masked = true;
        ++result.iterations;
        // The lock ends at the target accuracy, usually long before the budget: the bar follows whichever is nearer
        // (the accuracy measured before this step's swap, so it lags one step).
        const double towardTarget =
            initialAccuracy > targetAccuracy ? (initialAccuracy - accuracy) / (initialAccuracy - targetAccuracy) : 0.0;
        shown = std::max({shown, double(changed) / double(budget), towardTarget});
        if (!report(run, step, shown))
            return Error{"locking cancelled"};
    }
    if (sampledSteps > 0)
        result.notes.push_back(std::to_string(sampledSteps) + " of " + std::to_string(result.iterations)
            + " steps measured their candidates on " + std::to_string(s.searchSample)
            + " samples drawn among those in play");
    if (firstOrderFallbacks > 0)
        result.notes.push_back(std::to_string(firstOrderFallbacks) + " of " + std::to_string(result.iterations)
            + " steps drew by the first-order gain: none of the measured swaps raised the objective");
    for (LayerState &l : run.layers)
        l.weight.set_requires_grad(false);
    return {};
}

} // namespace paramlock::advparams
