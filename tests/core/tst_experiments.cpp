#include "experiments.h"
#include "testmodels.h"
#include "training.h"

#include <QtTest>

#include <random>

using namespace paramlock;
using namespace paramlock::testing;

class TestExperiments : public QObject
{
    Q_OBJECT

private slots:
    void lossThresholdSweepReplaysOneLock()
    {
        const Dataset data = separableImages(90, 9);
        const Model model = trainedLinear(data);
        AdvParamsOptions o;
        o.settings.mode = LockMode::Paper;
        o.settings.allLayers = true;
        o.settings.maxIterations = 12;
        Progress quiet;
        auto sweep = lossThresholdSweep(model, data, data, o, {0.0, 0.5, 100.0}, quiet);
        QVERIFY2(sweep.ok(), sweep.ok() ? "" : sweep.error().c_str());
        QCOMPARE(sweep->points.size(), size_t(3));
        // Below the initial loss nothing is changed; the largest threshold is the full lock.
        QCOMPARE(sweep->points[0].encrypted, int64_t(0));
        QCOMPARE(sweep->points[0].accuracy, evaluate(model, data)->accuracy);
        o.settings.lossThreshold = 100.0;
        auto full = lockModel(model, data, o, quiet);
        QVERIFY(full.ok());
        QCOMPARE(sweep->points[2].encrypted, full->encryptedCount());
        QCOMPARE(sweep->points[2].accuracy, evaluate(full->locked, data)->accuracy);
        QVERIFY(sweep->points[1].encrypted <= sweep->points[2].encrypted);
        o.settings.mode = LockMode::Strong;
        QVERIFY(!lossThresholdSweep(model, data, data, o, {1.0}, quiet).ok());
    }

    void encryptedCountSweepIsMonotoneInCount()
    {
        const Dataset data = separableImages(90, 9);
        const Model model = trainedLinear(data);
        AdvParamsOptions o = strongLock(8);
        o.settings.targetAccuracy = 0.01;
        Progress quiet;
        auto sweep = encryptedCountSweep(model, data, data, o, {0, 2, 4, 8}, quiet);
        QVERIFY2(sweep.ok(), sweep.ok() ? "" : sweep.error().c_str());
        QVERIFY(!sweep->points.empty());
        QCOMPARE(sweep->points[0].encrypted, int64_t(0));
        QCOMPARE(sweep->points[0].accuracy, evaluate(model, data)->accuracy);
        for (size_t i = 1; i < sweep->points.size(); ++i)
            QVERIFY(sweep->points[i].encrypted > sweep->points[i - 1].encrypted);
        auto full = lockModel(model, data, o, quiet);
        QCOMPARE(sweep->points.back().accuracy, evaluate(full->locked, data)->accuracy);
    }

    void perLayerSweepCoversEveryLayer()
    {
        const Dataset data = separableImages(30, 9);
        const Model model = trainedLinear(data);
        AdvParamsOptions o;
        o.settings.mode = LockMode::Paper;
        o.settings.maxIterations = 3;
        Progress quiet;
        auto sweep = perLayerSweep(model, data, data, o, quiet);
        QVERIFY(sweep.ok());
        QCOMPARE(sweep->points.size(), size_t(1));
        QCOMPARE(sweep->points[0].label, std::string("fc.weight"));
        QVERIFY(sweep->points[0].encrypted >= 1);
    }
};

QTEST_GUILESS_MAIN(TestExperiments)
#include "tst_experiments.moc"
