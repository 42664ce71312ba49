#include "analysis.h"

#include "attacks.h"
#include "experiments.h"

#include <QString>

#include <algorithm>

namespace paramlock {

namespace {

std::string fixed(double v, int decimals)
{
    return QString::number(v, 'f', decimals).toStdString();
}

Analysis fromCurve(const AttackCurve &curve, Analysis a, const std::string &xFormat)
{
    AnalysisSeries s{"locked model under attack", {}, {}};
    const bool percent = xFormat == "%";
    if (percent)
        a.xLabel += " (%)";
    a.columns = {a.xLabel, "test accuracy"};
    for (const AttackPoint &p : curve.points) {
        s.x.push_back(percent ? p.x * 100.0 : p.x);
        s.y.push_back(p.accuracy);
        a.rows.push_back(
            {percent ? fixed(p.x * 100.0, 0) + "%" : fixed(p.x, xFormat == "int" ? 0 : 2), percentText(p.accuracy)});
    }
    a.series.push_back(std::move(s));
    a.seconds = curve.seconds;
    return a;
}

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
        a.rows.push_back({sweep.kind == "layers" ? p.label : fixed(p.x, sweep.kind == "n-e" ? 0 : 2),
            std::to_string(p.encrypted), percentText(p.accuracy)});
    }
    a.series.push_back(std::move(s));
    a.seconds = sweep.seconds;
    return a;
}

double randomGuess(const AnalysisContext &c)
{
    const int classes =
        c.original->metadata().classCount > 0 ? c.original->metadata().classCount : std::max(2, c.test->classCount);
    return 1.0 / double(classes);
}

} // namespace

std::string percentText(double fraction)
{
    return fixed(fraction * 100.0, 2) + "%";
}

std::vector<std::string> analysisKinds()
{
    return {"finetune", "prune", "clip", "adaptive", "detect", "t-loss", "layers", "n-e"};
}

std::string analysisName(const std::string &kind)
{
    if (kind == "finetune")
        return "Fine-tuning attack";
    if (kind == "prune")
        return "Pruning attack";
    if (kind == "clip")
        return "Norm-clipping attack";
    if (kind == "adaptive")
        return "Adaptive attack";
    if (kind == "detect")
        return "Detection test";
    if (kind == "t-loss")
        return "Loss-threshold sweep";
    if (kind == "layers")
        return "One layer at a time";
    if (kind == "n-e")
        return "Accuracy vs encrypted weights";
    return kind;
}

Expected<Analysis> runAnalysis(const std::string &kind, const AnalysisContext &c, Progress &progress)
{
    if (!c.original || !c.lock || !c.test)
        return Error{"lock a model first: an analysis needs the original model, the lock and a test set"};
    const Model &locked = c.lock->locked;
    Analysis a;
    a.kind = kind;
    a.yLabel = "test accuracy";
    a.reference = randomGuess(c);
    a.referenceLabel = "random guess";
    const AttackerSplit split = splitForAttacker(*c.test, c.attackerFraction, c.seed);
    const std::string attackerShare = fixed(c.attackerFraction * 100.0, 0) + "% of the test set ("
        + std::to_string(split.attacker.size()) + " labelled images)";

    if (kind == "finetune") {
        FineTuneOptions o;
        o.epochs = std::max(1, c.fineTuneEpochs);
        o.reportAt.clear();
        for (int e : {1, 2, 5, 10, 20, 50, 100})
            if (e <= o.epochs)
                o.reportAt.push_back(e);
        if (o.reportAt.back() != o.epochs)
            o.reportAt.push_back(o.epochs);
        o.seed = c.seed;
        auto curve = fineTuneAttack(locked, split, o, progress, c.evalLimit);
        if (!curve)
            return Error{curve.error()};
        a.title = "Fine-tuning attack (the paper's Table III)";
        a.xLabel = "epochs of fine-tuning";
        a.explanation = "An attacker without the key retrains every weight of the locked model on " + attackerShare
            + " (SGD, learning rate 0.01, batch 64) and is scored on the rest of the test set.";
        return fromCurve(*curve, a, "int");
    }
    if (kind == "prune") {
        auto curve = pruningAttack(
            locked, *c.test, {0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}, true, progress, c.evalLimit);
        if (!curve)
            return Error{curve.error()};
        a.title = "Pruning attack (the paper's Table IV)";
        a.xLabel = "conv/FC weights pruned, smallest magnitude first";
        a.explanation = "The attacker sets the smallest weights of the locked model to zero, hoping to remove the "
                        "perturbation; no data is needed.";
        return fromCurve(*curve, a, "%");
    }
    if (kind == "clip") {
        auto curve = normClipAttack(locked, *c.test, {0.0, 0.5, 1.0, 2.0, 5.0}, progress, c.evalLimit);
        if (!curve)
            return Error{curve.error()};
        a.title = "Norm-clipping attack (NNSplitter's)";
        a.xLabel = "percentile clipped at each end of every layer";
        a.explanation = "The attacker clips each layer's weights to a percentile range, which removes outliers; "
                        "no data is needed.";
        return fromCurve(*curve, a, "2");
    }
    if (kind == "adaptive") {
        a.title = "Adaptive attack (the paper's Table V)";
        a.xLabel = "attack variant";
        a.explanation = "The attacker knows how ParamLock works but not the key: with " + attackerShare
            + " it re-runs the weight selection and undoes what it finds. 'paper': the paper's attack on every "
              "layer; 'global': the weight chosen over all layers at once; 'swap': swapping back the pairs of "
              "weights whose exchange helps most.";
        a.columns = {"variant", "accuracy before", "accuracy after", "weights changed", "secret weights found"};
        AnalysisSeries s{"accuracy after the attack", {}, {}};
        double seconds = 0.0;
        const std::vector<std::string> variants = {"paper", "global", "swap"};
        for (size_t i = 0; i < variants.size(); ++i) {
            AdaptiveOptions o;
            o.variant = variants[i];
            auto r = adaptiveAttack(locked, split, o, &c.lock->key, progress, c.evalLimit);
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
    if (kind == "detect") {
        auto layers = detectionAnalysis(locked, c.lock->key);
        if (!layers)
            return Error{layers.error()};
        a.title = "Can a statistical test find the changed weights?";
        a.xLabel = "layer";
        a.yLabel = "secret weights found by the test";
        a.reference = -1.0;
        a.explanation = "For every layer, the weights are ranked by how unusual they look (z-score against the layer "
                        "and against their own filter); the table shows how many of the secret positions are among "
                        "the top-ranked, and how much each layer's mean and standard deviation moved.";
        a.columns = {"layer", "secret weights", "found by |z| (layer)", "found by |z| (filter)",
            "mean change (% of std)", "std change (% of std)"};
        AnalysisSeries secret{"secret weights", {}, {}}, zHits{"found by |z| in the layer", {}, {}},
            fHits{"found by |z| in the filter", {}, {}};
        for (size_t i = 0; i < layers->size(); ++i) {
            const LayerDetection &d = (*layers)[i];
            if (d.secretCount == 0)
                continue;
            const double x = double(a.categories.size());
            a.categories.push_back(d.layer);
            secret.x.push_back(x);
            secret.y.push_back(double(d.secretCount));
            zHits.x.push_back(x);
            zHits.y.push_back(double(d.zScoreHits));
            fHits.x.push_back(x);
            fHits.y.push_back(double(d.filterHits));
            const double scale = d.std > 0.0 ? 100.0 / d.std : 0.0;
            a.rows.push_back({d.layer, std::to_string(d.secretCount), std::to_string(d.zScoreHits),
                std::to_string(d.filterHits), fixed(d.meanChange * scale, 4), fixed(d.stdChange * scale, 4)});
        }
        a.series = {secret, zHits, fHits};
        return a;
    }
    if (kind == "t-loss" || kind == "layers" || kind == "n-e") {
        if (!c.encryptionSet)
            return Error{"the sweeps need the encryption set"};
        LockOptions options = c.options;
        Expected<Sweep> sweep = Error{""};
        if (kind == "t-loss") {
            options.settings.mode = "paper";
            sweep = lossThresholdSweep(
                *c.original, *c.encryptionSet, *c.test, options, {1, 2, 3, 5, 8, 10, 15}, progress, c.evalLimit);
            a.title = "Accuracy against the loss threshold T_loss (the paper's Fig. 5, paper mode)";
            a.xLabel = "T_loss";
            a.explanation = "Algorithm 1 stops once the loss on the encryption set exceeds T_loss; one lock is "
                            "replayed to every threshold.";
        } else if (kind == "layers") {
            options.settings.mode = "paper";
            sweep = perLayerSweep(*c.original, *c.encryptionSet, *c.test, options, progress, c.evalLimit);
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
            sweep = encryptedCountSweep(*c.original, *c.encryptionSet, *c.test, options, counts, progress, c.evalLimit);
            a.title = "Accuracy against the number of encrypted weights (the paper's Fig. 7)";
            a.xLabel = "encrypted weights n_e";
            a.explanation = "The lock is replayed step by step: how many changed weights it takes to make the model "
                            "useless.";
        }
        if (!sweep)
            return Error{sweep.error()};
        return fromSweep(*sweep, a);
    }
    return Error{"unknown analysis \"" + kind + "\""};
}

} // namespace paramlock
