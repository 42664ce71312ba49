#include "dataset.h"

#include <QtTest>

#include <map>
#include <set>

using namespace paramlock;

namespace {
// 3 classes: 50 of class 0, 30 of class 1, 20 of class 2; 1x1 images holding their position.
Dataset makeData()
{
    Dataset d;
    d.channels = d.height = d.width = 1;
    d.classCount = 3;
    for (int i = 0; i < 100; ++i) {
        d.pixels.push_back(uint8_t(i));
        d.labels.push_back(i < 50 ? 0 : (i < 80 ? 1 : 2));
    }
    return d;
}
} // namespace

class TestSampling : public QObject
{
    Q_OBJECT

private slots:
    void uniformIsDistinctAndReproducible()
    {
        const Dataset d = makeData();
        SamplingOptions o;
        o.count = 40;
        o.seed = 7;
        auto a = sampleIndices(d, o);
        auto b = sampleIndices(d, o);
        QVERIFY(a.ok() && b.ok());
        QCOMPARE(*a, *b);
        QCOMPARE(std::set<int64_t>(a->begin(), a->end()).size(), size_t(40));
        for (int64_t i : *a)
            QVERIFY(i >= 0 && i < 100);
        o.seed = 8;
        QVERIFY(*sampleIndices(d, o) != *a);
    }

    void classBalancedTakesEqualShares()
    {
        const Dataset d = makeData();
        SamplingOptions o;
        o.count = 31;
        o.classBalanced = true;
        auto idx = sampleIndices(d, o);
        QVERIFY2(idx.ok(), idx.ok() ? "" : idx.error().c_str());
        std::map<int, int> perClass;
        for (int64_t i : *idx)
            ++perClass[d.labels[size_t(i)]];
        // 31 = 3 x 10 + 1: every class gives 10, one class gives 11.
        for (const auto &[cls, n] : perClass)
            QVERIFY2(n == 10 || n == 11, qPrintable(QString::number(n)));
        QCOMPARE(perClass[0] + perClass[1] + perClass[2], 31);
    }

    void refusesImpossibleRequests_data()
    {
        QTest::addColumn<int>("count");
        QTest::addColumn<bool>("balanced");
        QTest::addColumn<QString>("expected");
        QTest::newRow("zero") << 0 << false << "at least one sample";
        QTest::newRow("too many") << 101 << false << "only 100";
        QTest::newRow("class too small") << 90 << true << "samples of class 2";
    }

    void refusesImpossibleRequests()
    {
        QFETCH(int, count);
        QFETCH(bool, balanced);
        QFETCH(QString, expected);
        SamplingOptions o;
        o.count = count;
        o.classBalanced = balanced;
        auto idx = sampleIndices(makeData(), o);
        QVERIFY(!idx.ok());
        QVERIFY2(QString::fromStdString(idx.error()).contains(expected), idx.error().c_str());
    }

    void subsetKeepsOrderAndPixels()
    {
        const Dataset d = makeData();
        const Dataset s = d.subset({99, 3, 50});
        QCOMPARE(s.size(), int64_t(3));
        QCOMPARE(int(s.image(0)[0]), 99);
        QCOMPARE(s.labels, (std::vector<int32_t>{2, 0, 1}));
    }
};

QTEST_GUILESS_MAIN(TestSampling)
#include "tst_sampling.moc"
