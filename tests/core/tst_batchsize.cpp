// The forward batch size: the probe's climb on known timings, the cache, and evaluations that give the same answers
// at every batch size.
#include "batchsize.h"
#include "testmodels.h"

#include <QtTest>

#include <cmath>
#include <functional>

using namespace paramlock;
using namespace paramlock::testing;

namespace {

/** Runs a probe over `images` images whose batch of size s takes cost(s) seconds; returns the sizes it ran. */
std::vector<int64_t> runProbe(ForwardBatches &sizes, int64_t images, const std::function<double(int64_t, int)> &cost)
{
    std::vector<int64_t> ran;
    for (int64_t done = 0; done < images;) {
        const int64_t size = sizes.next(images - done);
        sizes.record(size, cost(size, int(ran.size())));
        ran.push_back(size);
        done += size;
    }
    return ran;
}

} // namespace

class TestBatchSize : public QObject
{
    Q_OBJECT

private slots:
    void init() { ForwardBatches::forget(); }

    void climbsWhileFasterAndSettlesOnTheBest()
    {
        // Per image: 1/s (per-call overhead) + s/100 (cache misses): 0.205 at 8, 0.2225 at 16 (within a quarter of
        // the best, so the climb goes on), 0.351 at 32 (clearly slower: the climb ends, the best is 8). The very
        // first batch carries a one-time cost a hundred times larger, which the best of three at the first rung
        // leaves out.
        ForwardBatches sizes("a", 0);
        QCOMPARE(sizes.chosen(), 0);
        const auto ran = runProbe(sizes, 200, [](int64_t s, int i) {
            const double perImage = 1.0 / double(s) + double(s) / 100.0;
            return perImage * double(s) * (i == 0 ? 100.0 : 1.0);
        });
        const std::vector<int64_t> probe{8, 8, 8, 16, 16, 32, 32};
        QVERIFY(ran.size() > probe.size());
        QCOMPARE(std::vector<int64_t>(ran.begin(), ran.begin() + long(probe.size())), probe);
        for (size_t i = probe.size(); i + 1 < ran.size(); ++i)
            QCOMPARE(ran[i], int64_t(8));
        QCOMPARE(sizes.chosen(), 8);
        QVERIFY(sizes.probed());
        QCOMPARE(ForwardBatches::cached("a"), 8);
        QCOMPARE(ForwardBatches::cached("b"), 0);
    }

    void climbsToTheTopWhenLargerIsAlwaysFaster()
    {
        ForwardBatches sizes("a", 0);
        const auto ran = runProbe(sizes, 5000, [](int64_t, int) { return 1.0; }); // a batch costs the same at any size
        QCOMPARE(sizes.chosen(), 256);
        QCOMPARE(ran[3 + 2 * 5], int64_t(256)); // three batches at 8, two at each of 16 ... 256, then 256 on
        QCOMPARE(ran[3 + 2 * 5 - 1], int64_t(256));
        QCOMPARE(ran[3 + 2 * 4 - 1], int64_t(128));
    }

    void aStallInOneBatchDoesNotEndTheClimb()
    {
        // 16 is the fastest size (0.05 s per image against 0.1 at 8 and 0.2 from 32 on), but the first of its two
        // batches is hit by a stall: the rung is scored by its faster batch, so 16 still wins.
        ForwardBatches sizes("a", 0);
        int sixteen = 0;
        runProbe(sizes, 3000, [&](int64_t s, int) {
            if (s == 16 && sixteen++ == 0)
                return 50.0;
            return double(s) * (s < 16 ? 0.1 : s == 16 ? 0.05 : 0.2);
        });
        QCOMPARE(sizes.chosen(), 16);
    }

    void theCacheStartsTheNextPassAtTheBest()
    {
        {
            ForwardBatches first("a", 0);
            runProbe(first, 1000, [](int64_t s, int) { return s <= 32 ? 1.0 : double(s); }); // 32 is the best
            QCOMPARE(first.chosen(), 32);
        }
        ForwardBatches again("a", 0);
        QCOMPARE(again.chosen(), 32);
        QVERIFY(!again.probed());
        QCOMPARE(again.next(1000), int64_t(32));
        QCOMPARE(again.next(5), int64_t(5));
        ForwardBatches other("b", 0);
        QCOMPARE(other.chosen(), 0);
        QCOMPARE(other.next(1000), int64_t(8));
    }

    void aRequestedSizeIsKeptAndNeverCached()
    {
        ForwardBatches fixed("a", 7);
        QCOMPARE(fixed.chosen(), 7);
        const auto ran = runProbe(fixed, 30, [](int64_t, int) { return 1.0; });
        QCOMPARE(ran, (std::vector<int64_t>{7, 7, 7, 7, 2}));
        QVERIFY(!fixed.probed());
        QCOMPARE(ForwardBatches::cached("a"), 0);
    }

    void aShortLastBatchDoesNotCount()
    {
        ForwardBatches sizes("a", 0);
        sizes.record(5, 1000.0); // a tail smaller than the rung: ignored
        QCOMPARE(sizes.next(100), int64_t(8));
        runProbe(sizes, 4000, [](int64_t, int) { return 1.0; });
        QCOMPARE(sizes.chosen(), 256);
    }

    void evaluationsAgreeAtEveryBatchSize()
    {
        const Dataset data = blockImages(1100, 5);
        const Model model = trainedLeNet(blockImages(600, 1), 1);
        EvaluationOptions fixed;
        fixed.keepPredictions = true;
        fixed.batchSize = 7;
        const auto reference = evaluate(model, data, fixed);
        QVERIFY(reference);
        QCOMPARE(reference->batchSize, 7);
        QVERIFY(reference->accuracy > 0.9);

        EvaluationOptions automatic;
        automatic.keepPredictions = true;
        const auto measured = evaluate(model, data, automatic);
        QVERIFY(measured);
        QCOMPARE(measured->correct, reference->correct);
        QCOMPARE(measured->total, int64_t(1100));
        QCOMPARE(measured->predictions, reference->predictions);
        QVERIFY(std::abs(measured->meanLoss - reference->meanLoss) < 1e-5);
        // 1,100 images leave room for the whole climb (3 x 8 + 2 x (16 + 32 + 64 + 128 + 256) = 1,016 images), so a
        // size was chosen and cached under the architecture's key, which a model of other weights shares.
        QVERIFY(measured->batchSize > 0);
        const auto &ladder = ForwardBatches::ladder();
        QVERIFY(std::find(ladder.begin(), ladder.end(), measured->batchSize) != ladder.end());
        QCOMPARE(ForwardBatches::cached(forwardBatchKey(model)), measured->batchSize);
        const Model other = *model.reinitialised(9);
        QCOMPARE(forwardBatchKey(other), forwardBatchKey(model));
        QVERIFY(forwardBatchKey(*Model::create("lenet5", imageMeta(1, 32, 10), 0)) != forwardBatchKey(model));

        const auto predictions = predict(model, data);
        QVERIFY(predictions);
        QCOMPARE(int64_t(predictions->size()), int64_t(1100));
        for (size_t i = 0; i < predictions->size(); ++i)
            QCOMPARE((*predictions)[i].label, reference->predictions[i]);
    }
};

QTEST_GUILESS_MAIN(TestBatchSize)
#include "tst_batchsize.moc"
