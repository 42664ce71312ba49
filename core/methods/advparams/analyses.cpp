// The analyses only AdvParams has, as chart-and-table results: the adaptive attack (Table V)
// and the paper's sweeps (Figs. 5-7).
#include "internal.h"

#include "advparamsattacks.h"
#include "experiments.h"
#include "text.h"

#include <algorithm>

namespace paramlock::advparams {

namespace {

Analysis fromSweep(const Sweep &sweep, Analysis a)
{
    AnalysisSeries s{"locked model", {}, {}};
    a.columns = {a.xLabel, "encrypted weights", "test accuracy"};
    for (size_t i = 0; i < sweep.points.size(); ++i) {
        const SweepPoint &p = sweep.points[i];
        s.x.push_back(sweep.kind == "layers" ? double(i) : p.x);
        s.y.push_back(p.accuracy);
        if (sweep.kind == "layers")
            a.categories.push_back(p.label);
        a.rows.push_back({sweep.kind == "layers" ? p.label : fixedText(p.x, sweep.kind == "n-e" ? 0 : 2),
            std::to_string(p.encrypted), percentText(p.accuracy)});
    }
    a.series.push_back(std::move(s));
    a.seconds = sweep.seconds;
    return a;
}

Expected<Analysis> adaptive(const AnalysisContext &c, Analysis a, Progress &progress)
{
    const AttackerSplit split = splitForAttacker(*c.test, c.attackerFraction, c.seed);
    a.title = "Adaptive attack (the paper's Table V)";
    a.xLabel = "attack variant";
    a.explanation = "The attacker knows how ParamLock works but not the key: with " + attackerShare(c, split)
        + " it re-runs the weight selection and undoes what it finds. 'paper': the paper's attack on every "
          "layer; 'global': the weight chosen over all layers at once; 'swap': swapping back the pairs of "
          "weights whose exchange helps most.";
    a.columns = {"variant", "accuracy before", "accuracy after", "weights changed", "secret weights found"};
    AnalysisSeries s{"accuracy after the attack", {}, {}};
    double seconds = 0.0;
    const std::vector<std::string> variants = adaptiveVariants();
    for (size_t i = 0; i < variants.size(); ++i) {
        AdaptiveOptions o;
        o.variant = variants[i];
        auto r = adaptiveAttack(c.lock->locked, split, o, &c.lock->key, progress, c.evalLimit);
        if (!r)
            return Error{r.error()};
        s.x.push_back(double(i));
        s.y.push_back(r->accuracyAfter);
        a.categories.push_back(variants[i]);
        a.rows.push_back({variants[i], percentText(r->accuracyBefore), percentText(r->accuracyAfter),
            std::to_string(r->weightsChanged),
            std::to_string(r->secretHits) + " of " + std::to_string(r->secretPositions)});
        seconds += r->seconds;
    }
    a.series.push_back(std::move(s));
    a.seconds = seconds;
    return a;
}

Expected<Analysis> sweep(const std::string &kind, const AnalysisContext &c, Analysis a, Progress &progress)
{
    if (!c.encryptionSet)
        return Error{"the sweeps need the encryption set"};
    auto secret = AdvParamsKey::of(c.lock->key);
    if (!secret)
        return Error{secret.error()};
    AdvParamsOptions options;
    options.settings = secret->settings;
    Expected<Sweep> result = Error{""};
    if (kind == "t-loss") {
        options.settings.mode = LockMode::Paper;
        result = lossThresholdSweep(
            *c.original, *c.encryptionSet, *c.test, options, {1, 2, 3, 5, 8, 10, 15}, progress, c.evalLimit);
        a.title = "Accuracy against the loss threshold T_loss (the paper's Fig. 5, paper mode)";
        a.xLabel = "T_loss";
        a.explanation = "Algorithm 1 stops once the loss on the encryption set exceeds T_loss; one lock is "
                        "replayed to every threshold.";
    } else if (kind == "layers") {
        options.settings.mode = LockMode::Paper;
        result = perLayerSweep(*c.original, *c.encryptionSet, *c.test, options, progress, c.evalLimit);
        a.title = "Locking one layer at a time (the paper's Fig. 6, paper mode)";
        a.xLabel = "the only locked layer";
        a.explanation = "Each conv/FC layer is locked alone with the paper's settings, to show which layers "
                        "matter most.";
    } else {
        std::vector<int64_t> counts;
        const int64_t n = c.lock->encryptedCount();
        for (int64_t k = 0; k <= n; k += std::max<int64_t>(1, n / 8))
            counts.push_back(k);
        if (counts.back() != n)
            counts.push_back(n);
        result = encryptedCountSweep(*c.original, *c.encryptionSet, *c.test, options, counts, progress, c.evalLimit);
        a.title = "Accuracy against the number of encrypted weights (the paper's Fig. 7)";
        a.xLabel = "encrypted weights n_e";
        a.explanation = "The lock is replayed step by step: how many changed weights it takes to make the model "
                        "useless.";
    }
    if (!result)
        return Error{result.error()};
    return fromSweep(*result, a);
}

} // namespace

std::vector<AnalysisSpec> advParamsAnalyses()
{
    return {{"adaptive", "Adaptive attack", true}, {"t-loss", "Loss-threshold sweep", false},
        {"layers", "One layer at a time", false}, {"n-e", "Accuracy vs encrypted weights", true}};
}

Expected<Analysis> runAdvParamsAnalysis(const std::string &kind, const AnalysisContext &c, Progress &progress)
{
    Analysis a = emptyAnalysis(kind, c);
    if (kind == "adaptive")
        return adaptive(c, a, progress);
    if (kind == "t-loss" || kind == "layers" || kind == "n-e")
        return sweep(kind, c, a, progress);
    return Error{"unknown analysis \"" + kind + "\""};
}

} // namespace paramlock::advparams
