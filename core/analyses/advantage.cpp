#include "advantage.h"

#include "modelimpl.h"
#include "text.h"
#include "training.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <optional>
#include <random>

namespace paramlock {

namespace {

double secondsSince(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

int epochsFor(int64_t k, const AdvantageOptions &o)
{
    const double wanted = std::ceil(double(o.steps) * double(o.batchSize) / double(std::max<int64_t>(1, k)));
    return int(std::clamp(wanted, double(std::max(1, o.minEpochs)), double(std::max(o.minEpochs, o.maxEpochs))));
}

/** The epochs at which a run of `epochs` is scored: `count` evenly spaced, the last one included. */
std::vector<int> checkpointsOf(int epochs, int count)
{
    std::vector<int> at;
    count = std::max(1, std::min(count, epochs));
    for (int j = 1; j <= count; ++j) {
        const int e = int(std::lround(double(epochs) * double(j) / double(count)));
        if (at.empty() || e > at.back())
            at.push_back(e);
    }
    return at;
}

/** The starting point of a curve and its untrained scores. */
struct Curve
{
    std::string name;
    Model start;
    double untrained = 0.0; ///< on the scored test images
    double untrainedSelection = 0.0; ///< on the selection sample
};

Expected<double> score(const Model &model, const Dataset &test, int64_t limit, const AdvantageOptions &o)
{
    EvaluationOptions e;
    e.limit = limit;
    e.batchSize = std::max(0, o.evalBatch);
    auto eval = evaluate(model, test, e);
    if (!eval)
        return Error{eval.error()};
    return eval->accuracy;
}

/**
 * One fine-tuning run of a copy of a curve's start with one setting, trained checkpoint by checkpoint so that the
 * successive-halving search can stop it between two. Each checkpoint is scored on the selection sample; the best one
 * (the untrained start, epoch 0, included) is kept. The batch order and the dropout stream depend on `runSeed` only
 * (the runtime's generator state is saved and restored around each stretch), so a run gives the same numbers whether
 * it runs alone or interleaved with others, and two curves trained from the same weights give the same numbers.
 */
class TrainingRun
{
public:
    TrainingRun(const Curve &curve, const Dataset &images, const TrainSetting &setting, const AdvantageOptions &o,
        uint64_t runSeed)
        : m_setting(setting), m_images(images), m_options(o), m_model(curve.start.clone()), m_rng(runSeed),
          m_scoreAt(checkpointsOf(epochsFor(images.size(), o), o.checkpoints)),
          m_bestSelection(curve.untrainedSelection), m_order(static_cast<size_t>(images.size()))
    {
        std::iota(m_order.begin(), m_order.end(), 0);
        m_optimizer = makeOptimizer(m_model.impl(), setting.optimizer, setting.learningRate, 0.0);
        at::Generator generator = at::detail::getDefaultCPUGenerator();
        const at::Tensor saved = generator.get_state();
        torch::manual_seed(runSeed);
        m_generatorState = generator.get_state();
        generator.set_state(saved);
    }

    bool valid() const { return m_optimizer != nullptr; }
    size_t checkpointCount() const { return m_scoreAt.size(); }
    int epochsTrained() const { return m_epoch; }
    const TrainSetting &setting() const { return m_setting; }
    double bestSelection() const { return m_bestSelection; }
    int bestEpoch() const { return m_bestEpoch; }
    /** The weights of the best checkpoint (empty while the untrained start is the best). */
    const std::optional<Model> &bestModel() const { return m_bestModel; }

    /** Trains up to checkpoint `j` (0-based) and scores it on the first `selection` test images. */
    Expected<void> advanceTo(size_t j, const Dataset &test, int64_t selection, bool keepBest, Progress &progress)
    {
        const int target = m_scoreAt.at(j);
        const int from = m_epoch;
        ModelImpl &impl = m_model.impl();
        const Normalization &norm = m_model.metadata().normalization;
        at::Generator generator = at::detail::getDefaultCPUGenerator();
        generator.set_state(m_generatorState);
        while (m_epoch < target) {
            ++m_epoch;
            std::shuffle(m_order.begin(), m_order.end(), m_rng);
            // A cancel stops within a batch, not an epoch (an epoch of 3,000 images is long on a DenseNet).
            trainEpoch(impl, *m_optimizer, m_images, m_order, m_options.batchSize, norm,
                [&progress](int64_t) { return !progress.cancelled(); });
            if (progress.cancelled())
                return Error{"analysis cancelled"};
            if (!progress.advance(double(m_epoch - from) / double(std::max(1, target - from)), m_setting.text()))
                return Error{"analysis cancelled"};
        }
        m_generatorState = generator.get_state();
        auto acc = score(m_model, test, selection, m_options);
        if (!acc)
            return Error{acc.error()};
        // A NaN (a diverged run) never wins.
        if (*acc > m_bestSelection) {
            m_bestSelection = *acc;
            m_bestEpoch = m_epoch;
            if (keepBest)
                m_bestModel = m_model.clone();
        }
        return {};
    }

private:
    TrainSetting m_setting;
    const Dataset &m_images;
    const AdvantageOptions &m_options;
    Model m_model;
    std::unique_ptr<torch::optim::Optimizer> m_optimizer;
    std::mt19937_64 m_rng;
    std::vector<int> m_scoreAt;
    double m_bestSelection = 0.0;
    int m_bestEpoch = 0;
    std::optional<Model> m_bestModel;
    std::vector<int64_t> m_order;
    at::Tensor m_generatorState;
    int m_epoch = 0;
};

/** The stretches (run x checkpoint) that successive halving trains: all runs to the first checkpoint, then the
 * best third (rounded up) to each next one. */
size_t halvingStretches(size_t runs, size_t checkpoints)
{
    size_t total = 0;
    for (size_t j = 0; j < checkpoints; ++j) {
        total += runs;
        runs = (runs + 2) / 3;
    }
    return total;
}

/** 1000 -> "1,000". */
std::string grouped(int64_t n)
{
    std::string digits = std::to_string(n);
    for (int i = int(digits.size()) - 3; i > 0; i -= 3)
        digits.insert(size_t(i), ",");
    return digits;
}

} // namespace

std::string TrainSetting::text() const
{
    std::string value = fixedText(learningRate, 6);
    while (value.size() > 1 && value.back() == '0')
        value.pop_back();
    if (!value.empty() && value.back() == '.')
        value.pop_back();
    return (optimizer == "adam" ? "Adam " : optimizer == "sgd" ? "SGD " : optimizer + " ") + value;
}

std::vector<TrainSetting> AdvantageOptions::defaultSettings()
{
    return {{"sgd", 0.1}, {"sgd", 0.01}, {"sgd", 0.001}, {"adam", 0.01}, {"adam", 0.001}, {"adam", 0.0001}};
}

std::vector<TrainSetting> AdvantageOptions::fineSettings()
{
    return {{"sgd", 0.1}, {"sgd", 0.03}, {"sgd", 0.01}, {"sgd", 0.003}, {"sgd", 0.001}, {"adam", 0.01}, {"adam", 0.003},
        {"adam", 0.001}, {"adam", 0.0003}, {"adam", 0.0001}};
}

Expected<AdvantageResult> advantageAnalysis(const Model &original, const Model &locked, const Dataset &train,
    const Dataset &test, const AdvantageOptions &o, Progress &progress)
{
    if (o.sizes.empty())
        return Error{"the advantage analysis needs at least one number of attacker images"};
    for (int64_t k : o.sizes)
        if (k < 0 || k > train.size())
            return Error{"the attacker's images must number between 0 and the training set's "
                + std::to_string(train.size()) + " (got " + std::to_string(k) + ")"};
    if (o.settings.empty())
        return Error{"the advantage analysis needs at least one training setting"};
    if (o.grid != "halving" && o.grid != "quick" && o.grid != "full")
        return Error{"the grid must be halving, quick or full (got \"" + o.grid + "\")"};
    if (o.steps < 1 || o.batchSize < 1 || o.checkpoints < 1)
        return Error{"steps, batch size and checkpoints must be positive"};
    if (o.selectionImages < 0)
        return Error{"the selection sample cannot be negative (0 selects on every scored image)"};
    if (test.size() == 0)
        return Error{"the advantage analysis needs a test set to score on"};
    if (auto ok = checkCompatible(locked, test); !ok)
        return Error{ok.error()};

    const auto started = std::chrono::steady_clock::now();
    AdvantageResult result;
    const int classes = original.metadata().classCount > 0 ? original.metadata().classCount : test.classCount;
    result.randomGuess = 1.0 / double(std::max(2, classes));
    result.testImages = o.evalLimit > 0 ? std::min(o.evalLimit, test.size()) : test.size();
    // Checkpoints are compared on the first `selection` scored images; each curve's winner at each k is scored on all.
    const int64_t selection =
        o.selectionImages > 0 ? std::min(o.selectionImages, result.testImages) : result.testImages;
    result.selectionImages = selection;
    const bool sampled = selection < result.testImages;

    // A baseline brings the scratch and original curves measured before: only the attacker's is trained here.
    const AdvantageResult *baseline = o.baseline.get();
    if (baseline) {
        for (int64_t k : o.sizes)
            if (std::none_of(baseline->rows.begin(), baseline->rows.end(),
                    [k](const AdvantageRow &row) { return row.size == k; }))
                return Error{
                    "the baseline has no row for k = " + std::to_string(k) + ": measure it with every k asked"};
        if (baseline->testImages != result.testImages)
            return Error{"the baseline was scored on " + std::to_string(baseline->testImages) + " test images, not "
                + std::to_string(result.testImages)};
    }

    // One re-initialisation and one shuffle of the training split; the thief's k images are its first k.
    std::vector<Curve> curves{{"attacker", locked}};
    if (!baseline) {
        auto scratch = original.reinitialised(o.seed);
        if (!scratch)
            return Error{scratch.error()};
        curves.push_back({"scratch", *scratch});
        if (o.includeOriginal)
            curves.push_back({"original", original});
    }
    for (Curve &c : curves) {
        auto acc = score(c.start, test, result.testImages, o);
        if (!acc)
            return Error{acc.error()};
        c.untrained = *acc;
        c.untrainedSelection = c.untrained;
        if (sampled) {
            auto sample = score(c.start, test, selection, o);
            if (!sample)
                return Error{sample.error()};
            c.untrainedSelection = *sample;
        }
    }
    result.lockedAccuracy = curves[0].untrained;
    if (baseline)
        result.victimAccuracy = baseline->victimAccuracy;
    else if (o.includeOriginal)
        result.victimAccuracy = curves[2].untrained;
    else if (auto acc = score(original, test, result.testImages, o))
        result.victimAccuracy = *acc;
    else
        return Error{acc.error()};

    std::vector<int64_t> order(static_cast<size_t>(train.size()));
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 drawRng(o.seed ^ 0x5eedf00dULL);
    std::shuffle(order.begin(), order.end(), drawRng);

    std::vector<int64_t> sizes = o.sizes;
    std::sort(sizes.begin(), sizes.end());
    sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
    const bool searched = o.grid != "full";
    const bool halving = o.grid == "halving";
    // Quick and halving: the search size first (every setting), then the others with each curve's best setting there.
    int64_t search = -1;
    if (searched) {
        for (int64_t k : sizes)
            if (k > 0 && (search < 0 || std::llabs(k - o.searchSize) < std::llabs(search - o.searchSize)))
                search = k;
    }
    std::vector<int64_t> schedule;
    if (search > 0)
        schedule.push_back(search);
    for (int64_t k : sizes)
        if (k != search)
            schedule.push_back(k);

    // Work units for the progress bar: one per stretch between two checkpoints of a run, weighted by its epochs x k.
    const size_t curveCount = curves.size();
    const auto stretchesAt = [&](int64_t k) -> size_t {
        if (k == 0)
            return 0;
        const size_t count = checkpointsOf(epochsFor(k, o), o.checkpoints).size();
        if (searched && k != search)
            return count;
        return halving ? halvingStretches(o.settings.size(), count) : o.settings.size() * count;
    };
    const auto stretchWork = [&](int64_t k) {
        return double(epochsFor(k, o)) * double(k) / double(checkpointsOf(epochsFor(k, o), o.checkpoints).size());
    };
    double totalWork = 0.0;
    for (int64_t k : schedule)
        totalWork += double(stretchesAt(k) * curveCount) * stretchWork(k);
    totalWork = std::max(totalWork, 1.0);
    double doneWork = 0.0;

    std::map<int64_t, double> repairs; // the repair's accuracy by the number of images it was given
    const auto firstN = [](int64_t n) {
        std::vector<int64_t> first(static_cast<size_t>(n));
        std::iota(first.begin(), first.end(), 0);
        return first;
    };
    std::vector<TrainSetting> chosen(curveCount); // quick and halving: each curve's best setting at the search size
    std::vector<bool> haveChosen(curveCount, false);
    std::vector<AdvantageRow> rows;
    for (int64_t k : schedule) {
        AdvantageRow row;
        row.size = k;
        std::vector<CurvePoint> best(curveCount);
        for (size_t c = 0; c < curveCount; ++c)
            best[c] = {curves[c].untrained, "no training", 0};
        if (k > 0) {
            const Dataset images = train.subset(std::vector<int64_t>(order.begin(), order.begin() + long(k)));
            const uint64_t runSeed = o.seed * 0x9e3779b97f4a7c15ULL + uint64_t(k);
            const double unit = stretchWork(k) / totalWork;
            for (size_t c = 0; c < curveCount; ++c) {
                std::vector<TrainSetting> settings = o.settings;
                if (searched && k != search && haveChosen[c])
                    settings = {chosen[c]};
                const auto startRun = [&](const TrainSetting &s) -> Expected<std::unique_ptr<TrainingRun>> {
                    auto run = std::make_unique<TrainingRun>(curves[c], images, s, o, runSeed);
                    if (!run->valid())
                        return Error{"unknown optimizer \"" + s.optimizer + "\" (use sgd or adam)"};
                    ++result.runs;
                    return run;
                };
                const auto stretch = [&](TrainingRun &run, size_t j) -> Expected<void> {
                    ProgressSpan sub(progress, doneWork / totalWork, doneWork / totalWork + unit,
                        "k = " + std::to_string(k) + ", " + curves[c].name);
                    const int before = run.epochsTrained();
                    auto done = run.advanceTo(j, test, selection, sampled, sub);
                    doneWork += unit * totalWork;
                    result.trainedImages += int64_t(run.epochsTrained() - before) * k;
                    return done;
                };
                // The winner: the best checkpoint of any run on the selection sample (ties: the earlier setting);
                // none while the untrained start is the best.
                std::unique_ptr<TrainingRun> winner;
                double bestSelection = curves[c].untrainedSelection;
                const auto offer = [&](std::unique_ptr<TrainingRun> run) {
                    if (run->bestSelection() > bestSelection) {
                        bestSelection = run->bestSelection();
                        winner = std::move(run);
                    }
                };
                if (halving && k == search && settings.size() > 1) {
                    // Successive halving: every setting to the first checkpoint, then the best third (rounded up,
                    // by the best checkpoint so far; ties to the earlier setting) on to each next one.
                    std::vector<std::unique_ptr<TrainingRun>> all;
                    for (const TrainSetting &s : settings) {
                        auto run = startRun(s);
                        if (!run)
                            return Error{run.error()};
                        all.push_back(std::move(*run));
                    }
                    std::vector<size_t> alive(all.size());
                    std::iota(alive.begin(), alive.end(), 0);
                    for (size_t j = 0; j < all.front()->checkpointCount(); ++j) {
                        for (size_t i : alive)
                            if (auto done = stretch(*all[i], j); !done)
                                return Error{done.error()};
                        std::stable_sort(alive.begin(), alive.end(),
                            [&all](size_t a, size_t b) { return all[a]->bestSelection() > all[b]->bestSelection(); });
                        alive.resize((alive.size() + 2) / 3);
                    }
                    for (auto &run : all)
                        offer(std::move(run));
                } else {
                    // One run after the other: one set of weights and optimiser state training at a time.
                    for (const TrainSetting &s : settings) {
                        auto run = startRun(s);
                        if (!run)
                            return Error{run.error()};
                        for (size_t j = 0; j < (*run)->checkpointCount(); ++j)
                            if (auto done = stretch(**run, j); !done)
                                return Error{done.error()};
                        offer(std::move(*run));
                    }
                }
                if (winner) {
                    double accuracy = winner->bestSelection();
                    if (sampled) {
                        auto full = score(*winner->bestModel(), test, result.testImages, o);
                        if (!full)
                            return Error{full.error()};
                        accuracy = *full;
                    }
                    best[c] = {accuracy, winner->setting().text(), winner->bestEpoch()};
                }
                if (searched && k == search) {
                    chosen[c] = winner ? winner->setting() : settings.front();
                    haveChosen[c] = true;
                }
            }
            if (o.repair) {
                const int64_t m = o.repairImages > 0 ? std::min(k, o.repairImages) : k;
                auto known = repairs.find(m);
                if (known == repairs.end()) {
                    ProgressSpan sub(progress, doneWork / totalWork, doneWork / totalWork,
                        "k = " + std::to_string(k) + ", " + o.repairName);
                    const Dataset few = m == k ? images : images.subset(firstN(m));
                    auto repaired = o.repair(curves[0].start, few, o.steps * o.batchSize, sub);
                    if (!repaired)
                        return Error{repaired.error()};
                    known = repairs.emplace(m, *repaired).first;
                }
                if (known->second > best[0].accuracy)
                    best[0] = {known->second, o.repairName, 0};
            }
        }
        row.attacker = best[0];
        if (baseline) {
            const auto same = std::find_if(
                baseline->rows.begin(), baseline->rows.end(), [k](const AdvantageRow &r) { return r.size == k; });
            row.scratch = same->scratch;
            row.original = same->original;
        } else {
            row.scratch = best[1];
            row.original = o.includeOriginal ? best[2] : CurvePoint{-1.0, "", 0};
        }
        row.ratio = row.scratch.accuracy > 0.0 ? row.attacker.accuracy / row.scratch.accuracy
                                               : std::numeric_limits<double>::quiet_NaN();
        const double span = result.victimAccuracy - row.scratch.accuracy;
        row.advantage = span > 0.0 ? (row.attacker.accuracy - row.scratch.accuracy) / span
                                   : std::numeric_limits<double>::quiet_NaN();
        rows.push_back(row);
        if (!progress.advance(doneWork / totalWork, "k = " + std::to_string(k) + " done"))
            return Error{"analysis cancelled"};
    }
    std::sort(rows.begin(), rows.end(), [](const AdvantageRow &a, const AdvantageRow &b) { return a.size < b.size; });
    result.rows = std::move(rows);

    std::string settingsText;
    for (const TrainSetting &s : o.settings)
        settingsText += (settingsText.empty() ? "" : ", ") + s.text();
    const std::string at = " at k = " + std::to_string(search);
    result.grid = settingsText
        + (searched && search < 0 ? std::string(" (no k > 0 asked: nothing trained)")
                : halving ? at + " by successive halving (all to the first checkpoint, the best third on to each next)"
                    + ", each curve's best there reused at the other k"
                : searched ? at + ", each curve's best there reused at the other k"
                           : std::string(" at every k"))
        + "; " + std::to_string(o.steps) + " steps of batch " + std::to_string(o.batchSize) + " ("
        + std::to_string(o.minEpochs) + "-" + std::to_string(o.maxEpochs) + " epochs), scored at "
        + std::to_string(o.checkpoints) + " checkpoints"
        + (sampled ? " on the first " + grouped(selection) + " test images (each curve's winner scored on all "
                    + grouped(result.testImages) + ")"
                   : std::string())
        + (o.repair ? "; the " + o.repairName + " on at most "
                    + (o.repairImages > 0 ? grouped(o.repairImages) : std::string("all")) + " of the thief's images, "
                    + "one run's passes per variant"
                    : std::string());
    result.seconds = secondsSince(started);
    return result;
}

std::string protectionLevel(const AdvantageResult &r)
{
    if (r.rows.empty())
        return {};
    const auto pct = [](double x) { return percentText(x, 1); };
    std::string text;
    const AdvantageRow *none = nullptr;
    const AdvantageRow *some = nullptr;
    for (const AdvantageRow &row : r.rows) {
        if (row.size == 0)
            none = &row;
        // The row a reader weighs: k = 1,000 where measured, otherwise the largest k.
        if (row.size > 0 && (!some || row.size == 1000 || (some->size != 1000 && row.size > some->size)))
            some = &row;
    }
    if (none) {
        text = r.lockedAccuracy <= 1.2 * r.randomGuess
            ? "Without data the locked model is useless (" + pct(r.lockedAccuracy) + ", random guess "
                + pct(r.randomGuess) + ")."
            : "Without data the locked model still answers " + pct(r.lockedAccuracy) + " correctly (random guess "
                + pct(r.randomGuess) + ", the original " + pct(r.victimAccuracy) + ").";
    }
    if (!some)
        return text;
    const std::string images = grouped(some->size) + " labelled image" + (some->size == 1 ? "" : "s");
    text += (text.empty() ? "" : " ") + std::string("With ") + images + " a thief gets " + pct(some->attacker.accuracy)
        + " from it, against " + pct(some->scratch.accuracy)
        + " training the same network from scratch (R = " + fixedText(some->ratio, 2) + ")";
    if (std::isnan(some->advantage)) {
        text += ": with that much data a thief does as well without the model as the original does.";
    } else if (some->ratio <= 1.05) {
        text += ": the locked model is worth nothing to a thief beyond the thief's own data.";
    } else if (some->advantage >= 0.5) {
        text += std::string(r.lockedAccuracy <= 1.2 * r.randomGuess ? ": this lock stops use, not retraining"
                                                                    : ": this lock stops neither use nor retraining")
            + " (the locked model gives a thief " + fixedText(100.0 * some->advantage, 0)
            + "% of what the original would).";
    } else {
        text += ": the locked model gives a thief a head start of "
            + fixedText(100.0 * (some->attacker.accuracy - some->scratch.accuracy), 1) + " points ("
            + fixedText(100.0 * some->advantage, 0) + "% of what the original would).";
    }
    return text;
}

} // namespace paramlock
