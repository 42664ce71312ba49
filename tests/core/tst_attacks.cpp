#include "advparams.h"
#include "advparamsattacks.h"
#include "attacks.h"
#include "testmodels.h"
#include "training.h"

#include <QtTest>

#include <algorithm>
#include <random>
#include <set>

using namespace paramlock;
using namespace paramlock::testing;

namespace {

class CancelAtOnce : public Progress
{
public:
    bool advance(double, const std::string &) override { return false; }
};

} // namespace

class TestAttacks : public QObject
{
    Q_OBJECT

private slots:
    void attackerSplitIsSeededAndDisjoint()
    {
        Dataset data = separableImages(100, 1);
        for (int i = 0; i < 100; ++i)
            data.pixels[size_t(i) * 16] = uint8_t(i); // tag every sample
        const AttackerSplit a = splitForAttacker(data, 0.1, 7);
        const AttackerSplit b = splitForAttacker(data, 0.1, 7);
        QCOMPARE(a.attacker.size(), int64_t(10));
        QCOMPARE(a.holdout.size(), int64_t(90));
        QCOMPARE(a.attacker.pixels, b.attacker.pixels);
        std::set<int> tags;
        for (int64_t i = 0; i < a.attacker.size(); ++i)
            tags.insert(a.attacker.image(i)[0]);
        for (int64_t i = 0; i < a.holdout.size(); ++i)
            tags.insert(a.holdout.image(i)[0]);
        QCOMPARE(tags.size(), size_t(100));
    }

    void pruningEverythingLeavesTheBias()
    {
        const Dataset data = separableImages(90, 2);
        Model model = trainedLinear(data);
        // With every weight pruned the logits are the bias: class 1 for every image, a third right.
        QVERIFY(model.setWeights("fc.bias", {0.0f, 1.0f, 0.5f}).ok());
        Progress quiet;
        auto curve = pruningAttack(model, data, {0.0, 1.0}, true, quiet);
        QVERIFY2(curve.ok(), curve.ok() ? "" : curve.error().c_str());
        QCOMPARE(curve->points.size(), size_t(2));
        QCOMPARE(curve->points[0].accuracy, evaluate(model, data)->accuracy);
        QCOMPARE(curve->points[1].accuracy, 1.0 / 3.0);
        auto layer = pruningAttack(model, data, {1.0}, false, quiet);
        QCOMPARE(layer->points[0].accuracy, 1.0 / 3.0);
        QCOMPARE(layer->attack, std::string("prune-layer"));
        QVERIFY(!pruningAttack(model, data, {1.5}, true, quiet).ok());
        // The attacked copy, not the model, was pruned.
        QVERIFY((*model.weights("fc.weight"))[0] != 0.0f);
    }

    void clippingAtZeroPercentChangesNothing()
    {
        const Dataset data = separableImages(60, 3);
        const Model model = trainedLinear(data);
        Progress quiet;
        auto curve = normClipAttack(model, data, {0.0, 40.0}, quiet);
        QVERIFY(curve.ok());
        QCOMPARE(curve->points[0].accuracy, evaluate(model, data)->accuracy);
        QVERIFY(!normClipAttack(model, data, {50.0}, quiet).ok());
    }

    void fineTuningRepairsAndReportsEachEpochAskedFor()
    {
        const Dataset data = separableImages(150, 4);
        Model model = trainedLinear(data);
        model.setWeights("fc.weight", std::vector<float>(48, 0.0f)); // a broken model
        FineTuneOptions options;
        options.epochs = 5;
        options.reportAt = {1, 5};
        options.learningRate = 0.05;
        Progress quiet;
        auto curve = fineTuneAttack(model, splitForAttacker(data, 0.5, 1), options, quiet);
        QVERIFY2(curve.ok(), curve.ok() ? "" : curve.error().c_str());
        QCOMPARE(curve->points.size(), size_t(3)); // before, 1, 5
        QCOMPARE(curve->points[2].x, 5.0);
        QVERIFY(curve->points[2].accuracy > curve->points[0].accuracy + 0.3);
        CancelAtOnce cancel;
        QVERIFY(QString::fromStdString(fineTuneAttack(model, splitForAttacker(data, 0.5, 1), options, cancel).error())
                    .contains(QLatin1String("cancelled")));
    }

    void swapAttackUndoesASingleSwap()
    {
        const Dataset data = separableImages(150, 5);
        const Model model = trainedLinear(data);
        AdvParamsOptions lock = strongLock(2); // exactly one swap
        lock.settings.candidates = 1;
        Progress quiet;
        auto locked = lockModel(model, data, lock, quiet);
        QVERIFY2(locked.ok(), locked.ok() ? "" : locked.error().c_str());
        QCOMPARE(locked->encryptedCount(), int64_t(2));

        AdaptiveOptions attack;
        attack.variant = "swap";
        attack.budget = 2;
        auto result = adaptiveAttack(locked->locked, {data, data}, attack, &locked->key, quiet);
        QVERIFY2(result.ok(), result.ok() ? "" : result.error().c_str());
        QCOMPARE(result->weightsChanged, int64_t(2));
        QCOMPARE(result->secretPositions, int64_t(2));
        // The attacker who knows the method and holds labelled data finds the swap and undoes it.
        QCOMPARE(result->secretHits, int64_t(2));
        QCOMPARE(result->accuracyAfter, evaluate(model, data)->accuracy);
        QVERIFY(!adaptiveAttack(locked->locked, {data, data}, AdaptiveOptions{"magic"}, nullptr, quiet).ok());
    }

    void aPassBoundLimitsEveryVariant()
    {
        const Dataset data = separableImages(150, 5);
        const Model model = trainedLinear(data);
        AdvParamsOptions lock = strongLock(6);
        Progress quiet;
        auto locked = lockModel(model, data, lock, quiet);
        QVERIFY2(locked.ok(), locked.ok() ? "" : locked.error().c_str());
        AdaptiveOptions attack;
        attack.variant = "swap";
        auto free = adaptiveAttack(locked->locked, {data, data}, attack, &locked->key, quiet);
        QVERIFY(free.ok());
        QVERIFY(free->weightsChanged >= 4); // the unbounded search goes on past one swap
        attack.maxPasses = 1; // one gradient pass: one swap
        auto bounded = adaptiveAttack(locked->locked, {data, data}, attack, &locked->key, quiet);
        QVERIFY(bounded.ok());
        QCOMPARE(bounded->weightsChanged, int64_t(2));
        attack.variant = "global";
        attack.iterations = 6;
        attack.maxPasses = 3; // at most three steps of one weight each
        auto global = adaptiveAttack(locked->locked, {data, data}, attack, nullptr, quiet);
        QVERIFY(global.ok());
        QVERIFY(global->weightsChanged >= 1 && global->weightsChanged <= 3);
    }

    void paperAttackStepsAndCountsWhatItChanged()
    {
        const Dataset data = separableImages(90, 6);
        const Model model = trainedLinear(data);
        AdaptiveOptions attack;
        attack.iterations = 4;
        Progress quiet;
        auto result = adaptiveAttack(model, {data, data}, attack, nullptr, quiet);
        QVERIFY(result.ok());
        QVERIFY(result->weightsChanged >= 1 && result->weightsChanged <= 4);
        QCOMPARE(result->secretHits, int64_t(-1));
    }

    void detectionSeesNoShiftAfterSwaps()
    {
        const Dataset data = separableImages(150, 7);
        const Model model = trainedLinear(data);
        AdvParamsOptions lock = strongLock(6);
        Progress quiet;
        auto locked = lockModel(model, data, lock, quiet);
        QVERIFY(locked.ok());
        auto layers = detectionAnalysis(locked->locked, locked->key);
        QVERIFY2(layers.ok(), layers.ok() ? "" : layers.error().c_str());
        QCOMPARE(layers->size(), size_t(1));
        const LayerDetection &d = layers->front();
        QCOMPARE(d.secretCount, locked->encryptedCount());
        QVERIFY(std::abs(d.meanChange) < 1e-12 * d.std);
        QVERIFY(std::abs(d.stdChange) < 1e-12 * d.std);
        QVERIFY(d.zScoreHits >= 0 && d.zScoreHits <= d.secretCount);
        // The largest single change and the layer's range, computed here from the two weight vectors.
        const std::vector<float> was = *model.weights(d.layer), now = *locked->locked.weights(d.layer);
        double largest = 0.0;
        for (size_t i = 0; i < was.size(); ++i)
            largest = std::max(largest, std::abs(double(now[i]) - double(was[i])));
        const auto [low, high] = std::minmax_element(was.begin(), was.end());
        QVERIFY(largest > 0.0);
        QCOMPARE(d.maxAbsChange, largest);
        QCOMPARE(d.range, double(*high) - double(*low));
        // Handed the original model instead of the locked one, the analysis refuses.
        QVERIFY(!detectionAnalysis(model, locked->key).ok());
    }
};

QTEST_GUILESS_MAIN(TestAttacks)
#include "tst_attacks.moc"
