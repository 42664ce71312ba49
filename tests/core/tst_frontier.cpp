// The frontier on tiny models: the stealth checks with computed expectations (a constant added to a layer moves its
// mean by exactly that many stds and nothing else; a checkerboard kernel turns a neighbour correlation of 1 into -1;
// a dense lock keeps every statistic and loses the kernels' structure), the candidates every method offers, the
// scratch and original curves trained once for all locks, bad input and cancel.
#include "dense.h"
#include "frontier.h"
#include "testmodels.h"

#include <QtTest>

#include <algorithm>
#include <cmath>

using namespace paramlock;
using namespace paramlock::testing;

namespace {

const Dataset &trainSet()
{
    static const Dataset d = blockImages(400, 11);
    return d;
}
const Dataset &testSet()
{
    static const Dataset d = blockImages(100, 2);
    return d;
}
/** A LeNet-5 that learned the blocks well (Adam, 15 epochs): a thief with 50 images gets less from scratch. */
const Model &victim()
{
    static const Model m = [] {
        Model model = *Model::create("lenet5", imageMeta(1, 28, 10), 5);
        Progress quiet;
        TrainOptions o;
        o.optimizer = "adam";
        o.learningRate = 0.002;
        o.epochs = 15;
        o.batchSize = 32;
        o.seed = 5;
        if (auto r = train(model, trainSet(), nullptr, o, quiet); !r)
            qFatal("%s", r.error().c_str());
        return model;
    }();
    return m;
}

/** LeNet-5's first conv layer (6 x 1 x 5 x 5). */
const LayerInfo &firstLayer(const Model &m)
{
    static std::vector<LayerInfo> layers;
    layers = m.layers();
    return layers.front();
}

/** Kernel k of the first layer constant at 0.01 (k + 1), or a checkerboard of +-0.01 (k + 1). */
Model withKernels(const Model &m, bool checkerboard)
{
    Model copy = m.clone();
    const LayerInfo first = firstLayer(copy);
    std::vector<float> w(size_t(first.count));
    for (size_t i = 0; i < w.size(); ++i) {
        const int64_t k = int64_t(i) / 25, y = (int64_t(i) % 25) / 5, x = int64_t(i) % 5;
        const float c = 0.01f * float(k + 1);
        w[i] = checkerboard && (x + y) % 2 == 1 ? -c : c;
    }
    if (auto ok = copy.setWeights(first.name, w); !ok)
        qFatal("%s", ok.error().c_str());
    return copy;
}

AdvantageOptions tinySweep()
{
    AdvantageOptions o;
    o.settings = {{"adam", 0.01}};
    o.steps = 10;
    o.batchSize = 16;
    o.minEpochs = 1;
    o.maxEpochs = 4;
    o.checkpoints = 1;
    return o;
}

FrontierCandidate denseCandidate(const Model &m, bool allLayers)
{
    FrontierCandidate c{"dense", allLayers ? "Dense lock, all layers" : "Dense lock, first layer",
        allLayers ? "all layers" : "first layer", {}};
    if (!allLayers)
        c.request.values.set("layers", LayerSelection{LayerSelection::Kind::Named, 0, {firstLayer(m).name}});
    return c;
}

} // namespace

class TestFrontier : public QObject
{
    Q_OBJECT

private slots:
    void anUnchangedModelShowsNothing()
    {
        auto m = stealthMeasures(victim(), victim().clone());
        QVERIFY2(m, m ? "" : m.error().c_str());
        QCOMPARE(m->score(), 0.0);
    }

    void aConstantAddedMovesTheMeanByExactlyThatManyStds()
    {
        const Model &original = victim();
        const LayerInfo first = firstLayer(original);
        Model shifted = original.clone();
        std::vector<float> w = *original.weights(first.name);
        for (float &x : w)
            x += 0.5f;
        QVERIFY(shifted.setWeights(first.name, w));
        auto m = stealthMeasures(original, shifted);
        QVERIFY(m);
        QVERIFY2(
            std::abs(m->meanShift - 0.5 / first.std) < 1e-4 * m->meanShift, qPrintable(QString::number(m->meanShift)));
        QVERIFY(m->stdShift < 1e-4);
        const double range = double(first.max) - double(first.min);
        QVERIFY(std::abs(m->rangeExcess - 0.5 / range) < 1e-4);
        // A constant moves no correlation.
        QVERIFY(m->correlationDrop < 1e-6);
        QCOMPARE(m->worstLayer, first.name);
        QCOMPARE(m->score(), m->meanShift);
    }

    void aCheckerboardKernelTurnsACorrelationOfOneIntoMinusOne()
    {
        const Model smooth = withKernels(victim(), false);
        const Model checker = withKernels(victim(), true);
        auto m = stealthMeasures(smooth, checker);
        QVERIFY(m);
        QVERIFY(std::abs(m->correlationBefore - 1.0) < 1e-9);
        QVERIFY(std::abs(m->correlationAfter + 1.0) < 1e-9);
        QVERIFY(std::abs(m->correlationDrop - 2.0) < 1e-9);
        QCOMPARE(m->worstLayer, firstLayer(smooth).name);
    }

    void aDenseLockKeepsEveryStatisticAndLosesTheKernelsStructure()
    {
        Model smooth = withKernels(victim(), false);
        Progress quiet;
        DenseSettings all;
        auto lock = denseLock(smooth, false, all, quiet);
        QVERIFY2(lock, lock ? "" : lock.error().c_str());
        auto m = stealthMeasures(smooth, lock->locked);
        QVERIFY(m);
        QVERIFY2(m->meanShift < 1e-5 && m->stdShift < 1e-5, qPrintable(QString::number(m->stdShift)));
        QCOMPARE(m->rangeExcess, 0.0);
        // 150 values shuffled: the neighbours of a tap are random taps of the layer.
        QVERIFY2(m->correlationDrop > 0.6, qPrintable(QString::number(m->correlationDrop)));
        QVERIFY(m->score() > 0.6);
    }

    void anotherArchitectureIsRefused()
    {
        Model other = *Model::create("lenet5", imageMeta(3, 32, 10), 1);
        auto m = stealthMeasures(victim(), other);
        QVERIFY(!m);
    }

    void everyLockMethodOffersItsSettings()
    {
        const std::vector<FrontierCandidate> all = frontierCandidates(victim());
        QStringList labels;
        for (const FrontierCandidate &c : all)
            labels << QString::fromStdString(c.label);
        // LeNet-5 has five conv/FC layers: the dense lock's first 1, 2, 4 and all five.
        for (const char *expected :
            {"AdvParams, paper mode", "AdvParams, strong mode", "Dense lock, first layer (conv1)",
                "Dense lock, first 2 layers", "Dense lock, first 4 layers", "Dense lock, all 5 layers"})
            QVERIFY2(labels.contains(QLatin1String(expected)), qPrintable(labels.join(QStringLiteral("; "))));
        QVERIFY(
            std::any_of(all.begin(), all.end(), [](const FrontierCandidate &c) { return c.method == "nnsplitter"; }));
        for (const FrontierCandidate &c : all) {
            const ProtectionMethod *m = methodById(c.method);
            QVERIFY(m);
            QVERIFY2(m->checkModel(victim(), c.request), c.label.c_str());
        }
    }

    void theScratchAndOriginalCurvesAreTrainedOnceForAllLocks()
    {
        FrontierOptions o;
        o.candidates = {denseCandidate(victim(), false), denseCandidate(victim(), true)};
        o.size = 50;
        o.advantage = tinySweep();
        o.seed = 4;
        const std::string before = victim().fingerprint();
        Progress quiet;
        auto r = frontierAnalysis(victim(), trainSet(), testSet(), o, quiet);
        QVERIFY2(r, r ? "" : r.error().c_str());
        // One setting: attacker, scratch and original for the first lock, the attacker alone for the second.
        QCOMPARE(r->runs, 4);
        QCOMPARE(r->points.size(), size_t(2));
        QCOMPARE(r->size, int64_t(50));
        QCOMPARE(r->testImages, int64_t(100));
        const LayerInfo first = firstLayer(victim());
        // A permutation leaves about one weight of a layer in place (its fixed points), which does not count.
        QVERIFY(r->points[0].weightsChanged <= first.count && r->points[0].weightsChanged >= first.count - 5);
        int64_t weights = 0;
        for (const LayerInfo &l : victim().layers())
            weights += l.count;
        QVERIFY(r->points[1].weightsChanged <= weights && r->points[1].weightsChanged >= weights - 25);
        QCOMPARE(r->points[1].parameterCount, weights);
        for (const FrontierPoint &p : r->points) {
            QVERIFY(p.keyBytes > 100);
            QVERIFY(p.attacker.accuracy >= 0.0 && p.attacker.accuracy <= 1.0);
            QVERIFY(std::abs(p.ratio - p.attacker.accuracy / r->scratch.accuracy) < 1e-12);
            // A permutation keeps each layer's statistics.
            QVERIFY(p.stealth.meanShift < 1e-4 && p.stealth.rangeExcess == 0.0);
        }
        QVERIFY(r->victimAccuracy > 0.9);
        // Permuting the first layer alone leaves a thief more than permuting all of them.
        QVERIFY2(r->points[0].advantage > r->points[1].advantage + 0.5,
            qPrintable(QStringLiteral("%1 %2").arg(r->points[0].advantage).arg(r->points[1].advantage)));
        QVERIFY(r->scratch.accuracy > 0.0);
        QVERIFY(!frontierSummary(*r).empty());
        QCOMPARE(victim().fingerprint(), before);
    }

    void aBaselineIsReusedAndMustHaveEveryK()
    {
        AdvantageOptions o = tinySweep();
        o.sizes = {0, 50};
        o.searchSize = 50;
        Progress quiet;
        const Model locked = *victim().reinitialised(9);
        auto first = advantageAnalysis(victim(), locked, trainSet(), testSet(), o, quiet);
        QVERIFY(first);
        QCOMPARE(first->runs, 3);
        AdvantageOptions again = o;
        again.baseline = std::make_shared<const AdvantageResult>(*first);
        auto second = advantageAnalysis(victim(), locked, trainSet(), testSet(), again, quiet);
        QVERIFY(second);
        QCOMPARE(second->runs, 1);
        QCOMPARE(second->rows.size(), first->rows.size());
        for (size_t i = 0; i < first->rows.size(); ++i) {
            QCOMPARE(second->rows[i].scratch.accuracy, first->rows[i].scratch.accuracy);
            QCOMPARE(second->rows[i].original.accuracy, first->rows[i].original.accuracy);
            // The attacker's run is seeded alike: the same number.
            QCOMPARE(second->rows[i].attacker.accuracy, first->rows[i].attacker.accuracy);
        }
        again.sizes = {0, 50, 80};
        auto missing = advantageAnalysis(victim(), locked, trainSet(), testSet(), again, quiet);
        QVERIFY(!missing);
        QVERIFY2(missing.error().find("k = 80") != std::string::npos, missing.error().c_str());
    }

    void badInputIsRefusedBeforeAnythingRuns()
    {
        FrontierOptions o;
        o.advantage = tinySweep();
        o.size = 0;
        Progress quiet;
        auto none = frontierAnalysis(victim(), trainSet(), testSet(), o, quiet);
        QVERIFY(!none);
        QVERIFY2(none.error().find("between 1 and") != std::string::npos, none.error().c_str());
        o.size = 50;
        o.candidates = {{"sealed-box", "Nothing", "nothing", {}}};
        auto unknown = frontierAnalysis(victim(), trainSet(), testSet(), o, quiet);
        QVERIFY(!unknown);
        QVERIFY2(unknown.error().find("not a lock method") != std::string::npos, unknown.error().c_str());
        FrontierCandidate badLayer = denseCandidate(victim(), false);
        badLayer.request.values.set("layers", LayerSelection{LayerSelection::Kind::Named, 0, {"conv9"}});
        o.candidates = {badLayer};
        auto bad = frontierAnalysis(victim(), trainSet(), testSet(), o, quiet);
        QVERIFY(!bad);
        QVERIFY2(bad.error().rfind("Dense lock, first layer: ", 0) == 0, bad.error().c_str());
    }

    void cancellingStopsTheComparison()
    {
        FrontierOptions o;
        o.candidates = {denseCandidate(victim(), false), denseCandidate(victim(), true)};
        o.size = 50;
        o.advantage = tinySweep();
        CancelAt cancel(5);
        auto r = frontierAnalysis(victim(), trainSet(), testSet(), o, cancel);
        QVERIFY(!r);
        QVERIFY2(r.error().find("cancelled") != std::string::npos, r.error().c_str());
    }
};

QTEST_GUILESS_MAIN(TestFrontier)
#include "tst_frontier.moc"
