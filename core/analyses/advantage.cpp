#include "advantage.h"

#include "modelimpl.h"
#include "text.h"
#include "training.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
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

/** The starting point of a curve and its untrained score. */
struct Curve
{
    std::string name;
    Model start;
    double untrained = 0.0;
};

Expected<double> score(const Model &model, const Dataset &test, const AdvantageOptions &o)
{
    EvaluationOptions e;
    e.limit = o.evalLimit;
    e.batchSize = std::max(0, o.evalBatch);
    auto eval = evaluate(model, test, e);
    if (!eval)
        return Error{eval.error()};
    return eval->accuracy;
}

/**
 * Fine-tunes a copy of `start` on `images` with one setting; the best score over the checkpoints (epoch 0, the
 * untrained score, included). The batch order and dropout depend on `runSeed` only, so two curves trained from the
 * same weights give the same numbers.
 */
Expected<CurvePoint> trainAndScore(const Curve &curve, const Dataset &images, const Dataset &test,
    const TrainSetting &setting, const AdvantageOptions &o, uint64_t runSeed, Progress &progress)
{
    return guarded("the advantage analysis failed", [&]() -> Expected<CurvePoint> {
        CurvePoint best{curve.untrained, "no training", 0};
        Model model = curve.start.clone();
        ModelImpl &impl = model.impl();
        auto optimizer = makeOptimizer(impl, setting.optimizer, setting.learningRate, 0.0);
        if (!optimizer)
            return Error{"unknown optimizer \"" + setting.optimizer + "\" (use sgd or adam)"};
        const int epochs = epochsFor(images.size(), o);
        const std::vector<int> scoreAt = checkpointsOf(epochs, o.checkpoints);
        std::mt19937_64 rng(runSeed);
        torch::manual_seed(runSeed);
        std::vector<int64_t> order(static_cast<size_t>(images.size()));
        std::iota(order.begin(), order.end(), 0);
        const Normalization &norm = model.metadata().normalization;
        for (int epoch = 1; epoch <= epochs; ++epoch) {
            std::shuffle(order.begin(), order.end(), rng);
            // A cancel stops within a batch, not an epoch (an epoch of 3,000 images is long on a DenseNet).
            trainEpoch(impl, *optimizer, images, order, o.batchSize, norm,
                [&progress](int64_t) { return !progress.cancelled(); });
            if (progress.cancelled())
                return Error{"analysis cancelled"};
            if (std::find(scoreAt.begin(), scoreAt.end(), epoch) != scoreAt.end()) {
                auto acc = score(model, test, o);
                if (!acc)
                    return Error{acc.error()};
                // A NaN (a diverged run) never wins.
                if (*acc > best.accuracy)
                    best = {*acc, setting.text(), epoch};
            }
            if (!progress.advance(double(epoch) / double(epochs), setting.text()))
                return Error{"analysis cancelled"};
        }
        return best;
    });
}

/** 1000 -> "1,000". */
std::string grouped(int64_t n)
{
    std::string digits = std::to_string(n);
    for (int i = int(digits.size()) - 3; i > 0; i -= 3)
        digits.insert(size_t(i), ",");
    return digits;
}

bool better(const CurvePoint &a, const CurvePoint &b)
{
    return a.accuracy > b.accuracy;
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
    if (o.grid != "quick" && o.grid != "full")
        return Error{"the grid must be quick or full (got \"" + o.grid + "\")"};
    if (o.steps < 1 || o.batchSize < 1 || o.checkpoints < 1)
        return Error{"steps, batch size and checkpoints must be positive"};
    if (test.size() == 0)
        return Error{"the advantage analysis needs a test set to score on"};
    if (auto ok = checkCompatible(locked, test); !ok)
        return Error{ok.error()};

    const auto started = std::chrono::steady_clock::now();
    AdvantageResult result;
    const int classes = original.metadata().classCount > 0 ? original.metadata().classCount : test.classCount;
    result.randomGuess = 1.0 / double(std::max(2, classes));
    result.testImages = o.evalLimit > 0 ? std::min(o.evalLimit, test.size()) : test.size();

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
    std::vector<Curve> curves{{"attacker", locked, 0.0}};
    if (!baseline) {
        auto scratch = original.reinitialised(o.seed);
        if (!scratch)
            return Error{scratch.error()};
        curves.push_back({"scratch", *scratch, 0.0});
        if (o.includeOriginal)
            curves.push_back({"original", original, 0.0});
    }
    for (Curve &c : curves) {
        auto acc = score(c.start, test, o);
        if (!acc)
            return Error{acc.error()};
        c.untrained = *acc;
    }
    result.lockedAccuracy = curves[0].untrained;
    if (baseline)
        result.victimAccuracy = baseline->victimAccuracy;
    else if (o.includeOriginal)
        result.victimAccuracy = curves[2].untrained;
    else if (auto acc = score(original, test, o))
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
    const bool quick = o.grid == "quick";
    // Quick: the search size first (every setting), then the others with each curve's best setting there.
    int64_t search = -1;
    if (quick) {
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

    // Work units for the progress bar: one per (curve, setting, k) run, weighted by its epochs x k.
    const size_t curveCount = curves.size();
    auto runsAt = [&](int64_t k) -> size_t {
        if (k == 0)
            return 0;
        return (!quick || k == search) ? o.settings.size() : 1;
    };
    double totalWork = 0.0;
    for (int64_t k : schedule)
        totalWork += double(runsAt(k) * curveCount) * double(epochsFor(k, o)) * double(k);
    totalWork = std::max(totalWork, 1.0);
    double doneWork = 0.0;

    std::map<int64_t, double> repairs; // the repair's accuracy by the number of images it was given
    const auto firstN = [](int64_t n) {
        std::vector<int64_t> first(static_cast<size_t>(n));
        std::iota(first.begin(), first.end(), 0);
        return first;
    };
    std::vector<TrainSetting> chosen(curveCount); // quick grid: each curve's best setting at the search size
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
            const double unit = double(epochsFor(k, o)) * double(k) / totalWork;
            for (size_t c = 0; c < curveCount; ++c) {
                std::vector<TrainSetting> settings = o.settings;
                if (quick && k != search && haveChosen[c])
                    settings = {chosen[c]};
                CurvePoint bestHere = best[c];
                TrainSetting bestSetting = settings.front();
                double bestTrained = -1.0;
                for (const TrainSetting &s : settings) {
                    ProgressSpan sub(progress, doneWork / totalWork, doneWork / totalWork + unit,
                        "k = " + std::to_string(k) + ", " + curves[c].name);
                    auto point = trainAndScore(curves[c], images, test, s, o, runSeed, sub);
                    if (!point)
                        return Error{point.error()};
                    ++result.runs;
                    doneWork += unit * totalWork;
                    if (better(*point, bestHere))
                        bestHere = *point;
                    if (point->accuracy > bestTrained) {
                        bestTrained = point->accuracy;
                        bestSetting = s;
                    }
                }
                if (quick && k == search) {
                    chosen[c] = bestSetting;
                    haveChosen[c] = true;
                }
                best[c] = bestHere;
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
    result.grid = settingsText
        + (quick && search < 0 ? std::string(" (no k > 0 asked: nothing trained)")
                : quick        ? " at k = " + std::to_string(search) + ", each curve's best there reused at the other k"
                               : std::string(" at every k"))
        + "; " + std::to_string(o.steps) + " steps of batch " + std::to_string(o.batchSize) + " ("
        + std::to_string(o.minEpochs) + "-" + std::to_string(o.maxEpochs) + " epochs), scored at "
        + std::to_string(o.checkpoints) + " checkpoints"
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
