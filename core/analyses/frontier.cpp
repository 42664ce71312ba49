#include "frontier.h"

#include "lockworkflow.h"
#include "text.h"
#include "training.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>

namespace paramlock {

namespace {

/** Pearson correlation of neighbouring kernel taps (right and below neighbours pooled); NaN when undefined. */
double neighbourCorrelation(const std::vector<float> &w, const std::vector<int64_t> &shape)
{
    const int64_t kh = shape[2], kw = shape[3];
    const int64_t kernels = shape[0] * shape[1];
    double n = 0, sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
    const auto add = [&](double a, double b) {
        n += 1;
        sa += a;
        sb += b;
        saa += a * a;
        sbb += b * b;
        sab += a * b;
    };
    for (int64_t k = 0; k < kernels; ++k) {
        const float *kernel = w.data() + k * kh * kw;
        for (int64_t y = 0; y < kh; ++y)
            for (int64_t x = 0; x < kw; ++x) {
                if (x + 1 < kw)
                    add(kernel[y * kw + x], kernel[y * kw + x + 1]);
                if (y + 1 < kh)
                    add(kernel[y * kw + x], kernel[(y + 1) * kw + x]);
            }
    }
    if (n < 2)
        return std::numeric_limits<double>::quiet_NaN();
    const double cov = sab / n - (sa / n) * (sb / n);
    const double va = saa / n - (sa / n) * (sa / n);
    const double vb = sbb / n - (sb / n) * (sb / n);
    if (va <= 0.0 || vb <= 0.0)
        return std::numeric_limits<double>::quiet_NaN();
    return cov / std::sqrt(va * vb);
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

double StealthMeasures::score() const
{
    return std::max({meanShift, stdShift, rangeExcess, correlationDrop});
}

Expected<StealthMeasures> stealthMeasures(const Model &original, const Model &locked)
{
    const std::vector<LayerInfo> before = original.layers();
    const std::vector<LayerInfo> after = locked.layers();
    if (before.size() != after.size())
        return Error{"the locked model has " + std::to_string(after.size()) + " conv/FC layers, the original "
            + std::to_string(before.size()) + ": they are not the same architecture"};
    StealthMeasures m;
    double worst = -1.0;
    for (size_t i = 0; i < before.size(); ++i) {
        const LayerInfo &b = before[i];
        const LayerInfo &a = after[i];
        if (a.name != b.name || a.count != b.count)
            return Error{"the locked model's layer " + a.name + " does not match the original's " + b.name};
        double here = 0.0;
        if (b.std > 0.0) {
            m.meanShift = std::max(m.meanShift, std::abs(a.mean - b.mean) / b.std);
            m.stdShift = std::max(m.stdShift, std::abs(a.std - b.std) / b.std);
            here = std::max(std::abs(a.mean - b.mean), std::abs(a.std - b.std)) / b.std;
        }
        const double range = double(b.max) - double(b.min);
        if (range > 0.0) {
            const double excess = std::max({0.0, double(b.min) - double(a.min), double(a.max) - double(b.max)}) / range;
            m.rangeExcess = std::max(m.rangeExcess, excess);
            here = std::max(here, excess);
        }
        if (b.kind == "conv" && b.shape.size() == 4 && b.shape[2] >= 2 && b.shape[3] >= 2) {
            auto wb = original.weights(b.name);
            auto wa = locked.weights(a.name);
            if (!wb)
                return Error{wb.error()};
            if (!wa)
                return Error{wa.error()};
            const double cb = neighbourCorrelation(*wb, b.shape);
            const double ca = neighbourCorrelation(*wa, a.shape);
            if (!std::isnan(cb) && !std::isnan(ca)) {
                const double drop = std::max(0.0, cb - ca);
                if (drop >= m.correlationDrop) {
                    m.correlationDrop = drop;
                    m.correlationBefore = cb;
                    m.correlationAfter = ca;
                }
                here = std::max(here, drop);
            }
        }
        if (here > worst) {
            worst = here;
            m.worstLayer = b.name;
        }
    }
    return m;
}

std::vector<FrontierCandidate> frontierCandidates(const Model &model)
{
    std::vector<FrontierCandidate> candidates;
    for (const ProtectionMethod *method : methods()) {
        if (!method->can(Capability::Lock))
            continue;
        for (const LabelledRequest &r : method->frontierRequests(model))
            candidates.push_back({method->id(), method->name() + ", " + r.label, r.label, r.request});
    }
    return candidates;
}

void addMethodRepair(AdvantageOptions &o, const ProtectionMethod &method, const Dataset &test, int64_t evalLimit)
{
    if (method.repairName().empty() || o.repair)
        return;
    o.repairName = method.repairName();
    const ProtectionMethod *m = &method;
    const Dataset *t = &test;
    o.repair = [m, t, evalLimit](const Model &locked, const Dataset &images, int64_t passBudget, Progress &p) {
        return m->repair(locked, images, *t, evalLimit, passBudget, p);
    };
}

Expected<FrontierResult> frontierAnalysis(const Model &original, const Dataset &train, const Dataset &test,
    const FrontierOptions &options, Progress &progress)
{
    const auto started = std::chrono::steady_clock::now();
    if (options.size < 1 || options.size > train.size())
        return Error{"the thief's images must number between 1 and the training set's " + grouped(train.size())
            + " (got " + std::to_string(options.size) + ")"};
    const std::vector<FrontierCandidate> candidates =
        options.candidates.empty() ? frontierCandidates(original) : options.candidates;
    if (candidates.empty())
        return Error{"the frontier needs at least one lock to compare"};
    for (const Dataset *data : {&train, &test})
        if (auto ok = checkCompatible(original, *data); !ok)
            return Error{ok.error()};
    if (auto ok = checkFiniteWeights(original); !ok)
        return Error{ok.error()};
    if (auto ok = checkRuns(original, test); !ok)
        return Error{ok.error()};

    // Every candidate is checked before anything is trained: a bad one fails in a second, not after an hour.
    std::vector<const ProtectionMethod *> methodsOf;
    for (const FrontierCandidate &c : candidates) {
        const ProtectionMethod *method = methodById(c.method);
        if (!method || !method->can(Capability::Lock))
            return Error{"\"" + c.method + "\" is not a lock method (use one of " + methodIds(Capability::Lock) + ")"};
        LockRequest request = c.request;
        request.seed = options.seed;
        if (auto ok = method->validate(request); !ok)
            return Error{c.label + ": " + ok.error()};
        if (auto ok = method->checkModel(original, request); !ok)
            return Error{c.label + ": " + ok.error()};
        methodsOf.push_back(method);
    }

    AdvantageOptions base = options.advantage;
    base.sizes = {0, options.size};
    base.searchSize = options.size;
    base.seed = options.seed;
    base.evalLimit = options.evalLimit;
    base.baseline.reset();

    // The first lock's analysis also trains the scratch and original curves: it weighs 2-3 x the others.
    const double firstWeight = base.includeOriginal ? 3.0 : 2.0;
    const double total = firstWeight + double(candidates.size() - 1);
    double done = 0.0;

    FrontierResult result;
    result.size = options.size;
    std::shared_ptr<const AdvantageResult> baseline;
    Model source = original; // shares the weights; every lock works on a copy
    for (size_t i = 0; i < candidates.size(); ++i) {
        const FrontierCandidate &c = candidates[i];
        const ProtectionMethod &method = *methodsOf[i];
        const double weight = i == 0 ? firstWeight : 1.0;
        const double from = done / total, to = (done + weight) / total;
        const double lockEnd = from + 0.1 * (to - from);
        LockRequest request = c.request;
        request.seed = options.seed;

        FrontierPoint point;
        point.candidate = c;
        point.candidate.request = request;
        point.methodName = method.name();
        auto indices = method.drawSample(train, request);
        if (!indices)
            return Error{c.label + ": " + indices.error()};
        ProgressSpan lockProgress(progress, from, lockEnd, c.label + ": locking");
        auto lock = method.lock(source, false, train.subset(*indices), request, lockProgress);
        if (progress.cancelled())
            return Error{"analysis cancelled"};
        if (!lock)
            return Error{c.label + ": " + lock.error()};
        point.weightsChanged = lock->encryptedCount();
        for (const LayerInfo &layer : original.layers())
            point.parameterCount += layer.count;
        point.keyBytes = int64_t(lock->key.toJson().size());
        point.lockSeconds = lock->seconds;
        auto stealth = stealthMeasures(original, lock->locked);
        if (!stealth)
            return Error{stealth.error()};
        point.stealth = *stealth;

        AdvantageOptions o = base;
        o.baseline = baseline;
        addMethodRepair(o, method, test, options.evalLimit);
        ProgressSpan analysisProgress(progress, lockEnd, to, c.label);
        auto r = advantageAnalysis(original, lock->locked, train, test, o, analysisProgress);
        if (progress.cancelled())
            return Error{"analysis cancelled"};
        if (!r)
            return Error{c.label + ": " + r.error()};
        if (!baseline) {
            baseline = std::make_shared<const AdvantageResult>(*r);
            result.victimAccuracy = r->victimAccuracy;
            result.randomGuess = r->randomGuess;
            result.testImages = r->testImages;
            result.grid = r->grid + "; the scratch and original curves trained once for all the locks";
        }
        result.runs += r->runs;
        point.lockedAccuracy = r->lockedAccuracy;
        for (const AdvantageRow &row : r->rows)
            if (row.size == options.size) {
                point.attacker = row.attacker;
                point.ratio = row.ratio;
                point.advantage = row.advantage;
                result.scratch = row.scratch;
                result.original = row.original;
            }
        if (!lock->reachedTarget)
            point.weakness = "the lock did not reach its target: " + lock->stopReason;
        else if (point.lockedAccuracy > kUselessFactor * result.randomGuess)
            point.weakness = "the locked model still scores " + percentText(point.lockedAccuracy);
        result.points.push_back(std::move(point));
        done += weight;
        if (!progress.advance(done / total, c.label + " done"))
            return Error{"analysis cancelled"};
    }
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return result;
}

std::string frontierSummary(const FrontierResult &r)
{
    if (r.points.empty())
        return {};
    const std::string images = grouped(r.size) + " labelled images";
    const auto usable = [](const FrontierPoint &p) { return p.weakness.empty(); };
    std::vector<const FrontierPoint *> nothing;
    const FrontierPoint *lowest = nullptr;
    const FrontierPoint *stealthiest = nullptr;
    for (const FrontierPoint &p : r.points) {
        if (!usable(p))
            continue;
        if (p.ratio <= 1.05)
            nothing.push_back(&p);
        if (!lowest || p.ratio < lowest->ratio)
            lowest = &p;
        if (!stealthiest || p.stealth.score() < stealthiest->stealth.score()
            || (p.stealth.score() == stealthiest->stealth.score() && p.ratio < stealthiest->ratio))
            stealthiest = &p;
    }
    if (!lowest)
        return "No lock compared made this model useless (every one scores above "
            + percentText(kUselessFactor * r.randomGuess) + " without data).";
    std::string text;
    if (!nothing.empty()) {
        // The cheapest of those that leave nothing: the fewest weights changed.
        const FrontierPoint *cheapest = *std::min_element(nothing.begin(), nothing.end(),
            [](const FrontierPoint *a, const FrontierPoint *b) { return a->weightsChanged < b->weightsChanged; });
        text = std::to_string(nothing.size()) + " of the " + std::to_string(r.points.size())
            + " locks leave a thief with " + images + " nothing beyond the thief's own data (R <= 1.05); the one "
            + "that changes the fewest weights is " + cheapest->candidate.label + " ("
            + grouped(cheapest->weightsChanged) + " weights, stealth score " + fixedText(cheapest->stealth.score(), 2)
            + ").";
    } else {
        text = "No lock compared leaves a thief with " + images + " nothing: the lowest is " + lowest->candidate.label
            + " (R = " + fixedText(lowest->ratio, 2) + ", " + fixedText(100.0 * lowest->advantage, 0)
            + "% of what the original would give).";
    }
    if (stealthiest) {
        text += " The least visible, " + stealthiest->candidate.label + " (stealth score "
            + fixedText(stealthiest->stealth.score(), 2) + "), ";
        text += stealthiest->ratio <= 1.05 ? std::string("leaves nothing as well.")
                                           : "gives a thief " + fixedText(100.0 * stealthiest->advantage, 0)
                + "% of what the original would (R = " + fixedText(stealthiest->ratio, 2) + ").";
    }
    return text;
}

} // namespace paramlock
