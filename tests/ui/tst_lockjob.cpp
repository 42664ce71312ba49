#include "lockjob.h"

#include "../core/testmodels.h"

namespace {

/** A paper-mode request of AdvParams, as the lock page would make it. */
paramlock::LockRequest paperRequest(int randomLayers, int maxIterations, double lossThreshold, int samples)
{
    paramlock::LockRequest request;
    request.values.set("mode", std::string("paper"));
    paramlock::LayerSelection layers;
    layers.kind = paramlock::LayerSelection::Kind::Random;
    layers.random = randomLayers;
    request.values.set("layers", layers);
    request.values.set("max-iter", int64_t(maxIterations));
    request.values.set("t-loss", lossThreshold);
    request.values.set("samples", int64_t(samples));
    return request;
}

/** The job's options in the tests: a random model on random data is at random guess, and that is the point. */
paramlock::WorkflowOptions untrainedAllowed()
{
    paramlock::WorkflowOptions options;
    options.allowUntrained = true;
    options.previewCount = 12;
    return options;
}

} // namespace

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QtTest>

using namespace paramlock;
using namespace paramlock::testing;

class TestLockJob : public QObject
{
    Q_OBJECT

private slots:
    void runsInTheBackgroundAndReports()
    {
        const Model model = *Model::create("lenet5", imageMeta(1, 28, 10), 3);
        const auto data = std::make_shared<const Dataset>(randomImages(60, 1, 28, 10, 4));
        const LockRequest request = paperRequest(2, 5, 15.0, 60);
        LockJob job;
        QSignalSpy steps(&job, &LockJob::stepDone);
        QSignalSpy progress(&job, &LockJob::progressChanged);
        QSignalSpy finished(&job, &LockJob::finished);
        QSignalSpy failed(&job, &LockJob::failed);
        QVERIFY(job.start(model, data, data, advParamsMethod(), request, untrainedAllowed()));
        QVERIFY(!job.start(model, data, data, advParamsMethod(), request, untrainedAllowed())); // one at a time
        QVERIFY(finished.wait(60000));
        QCOMPARE(failed.count(), 0);
        QCOMPARE(steps.count(), 10);
        QVERIFY(progress.count() >= 10);
        const auto outcome = finished.at(0).at(0).value<std::shared_ptr<const LockOutcome>>();
        QCOMPARE(outcome->result.iterations, 10);
        QCOMPARE(outcome->testSamples, int64_t(60));
        QCOMPARE(outcome->predictionsBefore.size(), size_t(12));
        QCOMPARE(steps.at(9).at(0).value<LockStep>().iteration, 9);
    }

    void cancelStopsAndLeavesTheModel()
    {
        const Model model = *Model::create("lenet5", imageMeta(1, 28, 10), 3);
        const std::string before = model.fingerprint();
        const LockRequest request = paperRequest(5, 400, 1e6, 100);
        LockJob job;
        QSignalSpy failed(&job, &LockJob::failed);
        QSignalSpy finished(&job, &LockJob::finished);
        QSignalSpy steps(&job, &LockJob::stepDone);
        job.start(model, std::make_shared<const Dataset>(randomImages(100, 1, 28, 10, 1)),
            std::make_shared<const Dataset>(randomImages(20, 1, 28, 10, 2)), advParamsMethod(), request,
            untrainedAllowed());
        QVERIFY(steps.wait(60000));
        job.cancel();
        QVERIFY(failed.wait(60000));
        QVERIFY(failed.at(0).at(0).toString().contains(QLatin1String("cancelled")));
        QCOMPARE(finished.count(), 0);
        QVERIFY(steps.count() < 2000);
        QCOMPARE(model.fingerprint(), before);
    }

    void eventLoopStaysResponsive()
    {
        // The longest gap between two event-loop ticks while a lock runs.
        const Model model = *Model::create("lenet5", imageMeta(1, 28, 10), 3);
        const LockRequest request = paperRequest(5, 20, 1e6, 300);
        LockJob job;
        QSignalSpy finished(&job, &LockJob::finished);
        QElapsedTimer clock;
        qint64 last = 0, longest = 0;
        QTimer tick;
        tick.setInterval(1);
        connect(&tick, &QTimer::timeout, this, [&] {
            const qint64 now = clock.elapsed();
            longest = std::max(longest, now - last);
            last = now;
        });
        clock.start();
        tick.start();
        job.start(model, std::make_shared<const Dataset>(randomImages(300, 1, 28, 10, 1)),
            std::make_shared<const Dataset>(randomImages(500, 1, 28, 10, 2)), advParamsMethod(), request,
            untrainedAllowed());
        QVERIFY(finished.wait(120000));
        tick.stop();
        qInfo("longest event-loop gap during a %d-iteration lock: %lld ms", 100, longest);
        QVERIFY2(longest < 100, qPrintable(QString::number(longest)));
    }
};

QTEST_MAIN(TestLockJob)
#include "tst_lockjob.moc"
