#include "analysis.h"

#include "frontier.h"
#include "protectionmethod.h"
#include "text.h"

#include <algorithm>
#include <cmath>

namespace paramlock {

namespace {

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
        a.rows.push_back({percent ? fixedText(p.x * 100.0, 0) + "%" : fixedText(p.x, xFormat == "int" ? 0 : 2),
            percentText(p.accuracy)});
    }
    a.series.push_back(std::move(s));
    a.seconds = curve.seconds;
    return a;
}

const std::vector<AnalysisSpec> &genericAnalyses()
{
    static const std::vector<AnalysisSpec> list = {{"finetune", "Fine-tuning attack", true},
        {"prune", "Pruning attack", true}, {"clip", "Norm-clipping attack", true}, {"detect", "Detection test", true},
        {"advantage", "Is stealing worth it? (attacker advantage)", false}};
    return list;
}

bool isGeneric(const std::string &kind)
{
    const auto &g = genericAnalyses();
    return std::any_of(g.begin(), g.end(), [&](const AnalysisSpec &s) { return s.kind == kind; });
}

Expected<Analysis> fineTune(const AnalysisContext &c, Analysis a, Progress &progress)
{
    const AttackerSplit split = splitForAttacker(*c.test, c.attackerFraction, c.seed);
    FineTuneOptions o;
    o.epochs = std::max(1, c.fineTuneEpochs);
    o.reportAt.clear();
    for (int e : {1, 2, 5, 10, 20, 50, 100})
        if (e <= o.epochs)
            o.reportAt.push_back(e);
    if (o.reportAt.back() != o.epochs)
        o.reportAt.push_back(o.epochs);
    o.seed = c.seed;
    auto curve = fineTuneAttack(c.lock->locked, split, o, progress, c.evalLimit);
    if (!curve)
        return Error{curve.error()};
    a.title = "Fine-tuning attack (the paper's Table III)";
    a.xLabel = "epochs of fine-tuning";
    a.explanation = "An attacker without the key retrains every weight of the locked model on "
        + attackerShare(c, split) + " (SGD, learning rate " + fixedText(o.learningRate, 2) + ", batch "
        + std::to_string(o.batchSize) + ") and is scored on the rest of the test set.";
    return fromCurve(*curve, a, "int");
}

Expected<Analysis> detection(const AnalysisContext &c, Analysis a)
{
    auto layers = detectionAnalysis(c.lock->locked, c.lock->key);
    if (!layers)
        return Error{layers.error()};
    a.title = "Can a statistical test find the changed weights?";
    a.xLabel = "layer";
    a.yLabel = "secret weights found by the test";
    a.reference = -1.0;
    a.explanation = "For every layer, the weights are ranked by how unusual they look (z-score against the layer "
                    "and against their own filter); the table shows how many of the secret positions are among "
                    "the top-ranked, and how much each layer's mean and standard deviation moved.";
    a.columns = {"layer", "secret weights", "found by |z| (layer)", "found by |z| (filter)", "mean change (% of std)",
        "std change (% of std)"};
    AnalysisSeries secret{"secret weights", {}, {}}, zHits{"found by |z| in the layer", {}, {}},
        fHits{"found by |z| in the filter", {}, {}};
    for (const LayerDetection &d : *layers) {
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
            std::to_string(d.filterHits), fixedText(d.meanChange * scale, 4), fixedText(d.stdChange * scale, 4)});
    }
    a.series = {secret, zHits, fHits};
    return a;
}

std::string accuracyOrDash(double accuracy)
{
    return accuracy < 0.0 || std::isnan(accuracy) ? "-" : percentText(accuracy);
}

std::string numberOrNa(double value)
{
    return std::isnan(value) ? "n/a" : fixedText(value, 2);
}

Expected<Analysis> advantage(const AnalysisContext &c, Analysis a, Progress &progress)
{
    if (!c.train || c.train->size() == 0)
        return Error{"the advantage analysis needs the training split: the thief's images are drawn from it"};
    AdvantageOptions o = c.advantage;
    o.seed = c.seed;
    o.evalLimit = c.evalLimit;
    if (const ProtectionMethod *method = methodById(c.lock->key.method))
        addMethodRepair(o, *method, *c.test, c.evalLimit);
    auto r = advantageAnalysis(*c.original, c.lock->locked, *c.train, *c.test, o, progress);
    if (!r)
        return Error{r.error()};
    return advantageView(*r, a);
}

} // namespace

Analysis advantageView(const AdvantageResult &r, Analysis a)
{
    a.kind = "advantage";
    a.title = "Is stealing worth it? What a thief with labelled data gets";
    a.xLabel = "labelled training images the thief holds (k)";
    a.yLabel = "test accuracy";
    a.reference = r.randomGuess;
    a.referenceLabel = "random guess";
    AnalysisSeries att{"from the locked model (A_att)", {}, {}}, scr{"from scratch, same network (A_scr)", {}, {}},
        orig{"from the unlocked original (A_orig)", {}, {}}, victim{"the original, as trained", {}, {}};
    a.columns = {
        "k", "A_att", "A_scr", "A_orig", "R = A_att / A_scr", "advantage", "A_att reached by", "A_scr reached by"};
    a.categories.clear();
    for (const AdvantageRow &row : r.rows) {
        const double x = double(a.categories.size());
        a.categories.push_back(std::to_string(row.size));
        att.x.push_back(x);
        att.y.push_back(row.attacker.accuracy);
        scr.x.push_back(x);
        scr.y.push_back(row.scratch.accuracy);
        if (row.original.accuracy >= 0.0) {
            orig.x.push_back(x);
            orig.y.push_back(row.original.accuracy);
        }
        victim.x.push_back(x);
        victim.y.push_back(r.victimAccuracy);
        const auto how = [](const CurvePoint &p) {
            return p.epoch > 0 ? p.setting + ", epoch " + std::to_string(p.epoch) : p.setting;
        };
        a.rows.push_back({std::to_string(row.size), accuracyOrDash(row.attacker.accuracy),
            accuracyOrDash(row.scratch.accuracy), accuracyOrDash(row.original.accuracy), numberOrNa(row.ratio),
            numberOrNa(row.advantage), how(row.attacker), how(row.scratch)});
    }
    a.series = {att, scr};
    if (!orig.x.empty())
        a.series.push_back(orig);
    a.series.push_back(victim);
    a.verdict = protectionLevel(r);
    a.explanation = "A thief holds k labelled training images and the locked model. A_att is the best test accuracy "
                    "it reaches from the locked model, A_scr the best from the same network trained from random "
                    "initialisation on the same images, A_orig from the unlocked original (the ceiling). Each is the "
                    "best over the sweep ("
        + r.grid
        + "): an upper bound of the thief, as the literature reports it. "
          "R = 1 and advantage = 0: the lock leaks nothing beyond the thief's data; advantage = 1: no lock. "
          "Scored on "
        + std::to_string(r.testImages) + " test images; " + std::to_string(r.runs) + " training runs.";
    a.seconds = r.seconds;
    return a;
}

Analysis emptyAnalysis(const std::string &kind, const AnalysisContext &c)
{
    Analysis a;
    a.kind = kind;
    a.yLabel = "test accuracy";
    const int classes =
        c.original->metadata().classCount > 0 ? c.original->metadata().classCount : std::max(2, c.test->classCount);
    a.reference = 1.0 / double(classes);
    a.referenceLabel = "random guess";
    return a;
}

std::string attackerShare(const AnalysisContext &c, const AttackerSplit &split)
{
    return fixedText(c.attackerFraction * 100.0, 0) + "% of the test set (" + std::to_string(split.attacker.size())
        + " labelled images)";
}

std::vector<AnalysisSpec> analysisSpecs(const std::string &method)
{
    std::vector<AnalysisSpec> specs = genericAnalyses();
    if (const ProtectionMethod *m = methodById(method)) {
        const auto own = m->analyses();
        specs.insert(specs.end(), own.begin(), own.end());
    }
    return specs;
}

std::vector<std::string> analysisKinds(const std::string &method)
{
    std::vector<std::string> kinds;
    for (const AnalysisSpec &s : analysisSpecs(method))
        kinds.push_back(s.kind);
    return kinds;
}

std::string analysisName(const std::string &kind)
{
    for (const AnalysisSpec &s : genericAnalyses())
        if (s.kind == kind)
            return s.name;
    for (const ProtectionMethod *m : methods())
        for (const AnalysisSpec &s : m->analyses())
            if (s.kind == kind)
                return s.name;
    return kind;
}

Expected<Analysis> runAnalysis(const std::string &kind, const AnalysisContext &c, Progress &progress)
{
    if (!c.original || !c.lock || !c.test)
        return Error{"lock a model first: an analysis needs the original model, the lock and a test set"};
    if (!isGeneric(kind)) {
        const ProtectionMethod *method = methodById(c.lock->key.method);
        if (!method)
            return Error{"the lock was made by an unknown method \"" + c.lock->key.method + "\""};
        const auto own = method->analyses();
        if (std::none_of(own.begin(), own.end(), [&](const AnalysisSpec &s) { return s.kind == kind; }))
            return Error{"unknown analysis \"" + kind + "\" for a lock made by " + method->name()};
        return method->runAnalysis(kind, c, progress);
    }
    Analysis a = emptyAnalysis(kind, c);
    const Model &locked = c.lock->locked;
    if (kind == "finetune")
        return fineTune(c, a, progress);
    if (kind == "detect")
        return detection(c, a);
    if (kind == "advantage")
        return advantage(c, a, progress);
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
    auto curve = normClipAttack(locked, *c.test, {0.0, 0.5, 1.0, 2.0, 5.0}, progress, c.evalLimit);
    if (!curve)
        return Error{curve.error()};
    a.title = "Norm-clipping attack (NNSplitter's)";
    a.xLabel = "percentile clipped at each end of every layer";
    a.explanation = "The attacker clips each layer's weights to a percentile range, which removes outliers; "
                    "no data is needed.";
    return fromCurve(*curve, a, "2");
}

} // namespace paramlock
