// The programs' process settings: how many threads a shared machine leaves, and the load measurement behind it.
#include "process.h"

#include <QtTest>

#include <thread>

using namespace paramlock;

class TestProcess : public QObject
{
    Q_OBJECT

private slots:
    void aCoreThreeQuartersBusyIsTaken_data()
    {
        QTest::addColumn<int>("cores");
        QTest::addColumn<double>("busy");
        QTest::addColumn<int>("threads");
        QTest::newRow("alone") << 2 << 0.0 << 2;
        QTest::newRow("background noise") << 2 << 0.4 << 2;
        QTest::newRow("just under three quarters") << 2 << 0.74 << 2;
        QTest::newRow("one busy process") << 2 << 0.8 << 1;
        QTest::newRow("two busy processes: one thread is left") << 2 << 2.0 << 1;
        QTest::newRow("more than the machine") << 2 << 5.0 << 1;
        QTest::newRow("sixteen cores, one busy") << 16 << 1.0 << 15;
        QTest::newRow("sixteen cores, two and a half busy") << 16 << 2.5 << 14;
        QTest::newRow("unknown load") << 4 << -1.0 << 4;
        QTest::newRow("one core") << 1 << 0.9 << 1;
    }

    void aCoreThreeQuartersBusyIsTaken()
    {
        QFETCH(int, cores);
        QFETCH(double, busy);
        QFETCH(int, threads);
        QCOMPARE(freeCores(cores, busy), threads);
    }

    void theLoadIsMeasuredWithinTheMachine()
    {
        // Linux has /proc: the measurement is a share of the machine's cores, whatever else runs beside the test.
        const double busy = busyCoresOfOthers(50);
        QVERIFY2(busy >= 0.0, "/proc/stat and /proc/self/stat were not read");
        QVERIFY(busy <= double(std::thread::hardware_concurrency()) + 0.5);
    }
};

QTEST_GUILESS_MAIN(TestProcess)
#include "tst_process.moc"
