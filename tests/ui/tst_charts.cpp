#include "charts.h"

#include <QtTest>

#include <qcustomplot.h>

using namespace paramlock;

class TestCharts : public QObject
{
    Q_OBJECT

private slots:
    void lossChartPlotsStepsAndLayerChanges()
    {
        LossChart chart;
        LockChartSpec spec;
        spec.threshold = 15.0;
        spec.thresholdLabel = "T_loss";
        chart.start(spec);
        chart.addStep({0, 0, "conv1.weight", 3, 0.1, 0.5});
        chart.addStep({1, 0, "conv1.weight", 7, -0.1, 0.9});
        chart.addStep({2, 1, "fc1.weight", 2, 0.2, 1.7});
        QCOMPARE(chart.pointCount(), 3);
        QCOMPARE(chart.layerMarkerCount(), 1);
        QCPGraph *loss = chart.plot()->graph(0);
        QCOMPARE(loss->dataCount(), 3);
        QCOMPARE(loss->data()->at(2)->value, 1.7);
        QCOMPARE(chart.plot()->xAxis->label(), QStringLiteral("iteration"));
        const QStringList lines = chart.csv().trimmed().split(QLatin1Char('\n'));
        QCOMPARE(lines.size(), 4);
        QCOMPARE(lines[2], QStringLiteral("1,conv1.weight,7,0.9,-0.1,"));
        QCOMPARE(chart.accuracyPointCount(), 0);
        QVERIFY(!chart.plot()->yAxis2->visible());
        chart.start(spec);
        QCOMPARE(chart.pointCount(), 0);
    }

    void lossChartPlotsAnAccuracyPerEpoch()
    {
        // NNSplitter's steps are epochs with a validation loss and accuracy; epoch 0 is before the first step.
        LossChart chart;
        LockChartSpec spec;
        spec.xLabel = "epoch";
        spec.accuracyLabel = "validation accuracy";
        chart.start(spec);
        LockStep step;
        for (const auto &[loss, accuracy] :
            std::vector<std::pair<double, double>>{{0.3, 0.9}, {4.0, 0.4}, {9.5, 0.1}}) {
            step.loss = loss;
            step.accuracy = accuracy;
            chart.addStep(step);
            ++step.iteration;
        }
        QCOMPARE(chart.accuracyPointCount(), 3);
        QVERIFY(chart.plot()->yAxis2->visible());
        QVERIFY(chart.plot()->yAxis2->label().contains(QLatin1String("validation accuracy (%)")));
        QCOMPARE(chart.plot()->graph(2)->data()->at(2)->value, 10.0);
        QCOMPARE(chart.plot()->graph(0)->data()->at(1)->value, 4.0);
        QCOMPARE(chart.csv().trimmed().split(QLatin1Char('\n')).last(), QStringLiteral("2,,-1,9.5,0,0.1"));
        QCOMPARE(chart.targetLine(), -1.0); // NNSplitter's steps name no target
    }

    void lossChartDrawsTheTargetTheLockStopsAt()
    {
        // The strong lock's steps carry the encryption-set accuracy and the target it stops at.
        LossChart chart;
        LockChartSpec spec;
        spec.accuracyLabel = "encryption-set accuracy";
        chart.start(spec);
        const int graphs = chart.plot()->graphCount();
        LockStep step;
        step.loss = 0.2;
        step.accuracy = 0.93;
        step.targetAccuracy = 0.08;
        chart.addStep(step);
        step.iteration = 1;
        step.accuracy = 0.41;
        chart.addStep(step);
        QCOMPARE(chart.targetLine(), 8.0);
        QCOMPARE(chart.accuracyPointCount(), 2);
        QCOMPARE(chart.plot()->graphCount(), graphs + 1); // one legend entry, however many steps
        QCPGraph *legend = chart.plot()->graph(graphs);
        QCOMPARE(legend->name(), QStringLiteral("the lock stops at 8.0 %"));
        QCOMPARE(legend->valueAxis(), chart.plot()->yAxis2);
        auto *line = qobject_cast<QCPItemStraightLine *>(chart.plot()->item(chart.plot()->itemCount() - 1));
        QVERIFY(line);
        QCOMPARE(line->point1->valueAxis(), chart.plot()->yAxis2);
        QCOMPARE(line->point1->coords().y(), 8.0);
        chart.start(spec); // a new lock starts without it
        QCOMPARE(chart.targetLine(), -1.0);
        // Without an accuracy axis there is nothing to draw it on.
        chart.start(LockChartSpec{});
        chart.addStep(step);
        QCOMPARE(chart.targetLine(), -1.0);
    }

    void weightRangeChartShowsRangesAndValues()
    {
        LayerLockReport a;
        a.layer = "conv1.weight";
        a.min = -1.0f;
        a.max = 1.0f;
        a.lowerBound = -0.9;
        a.upperBound = 0.9;
        a.positions = {4, 9};
        a.before = {0.1f, -0.2f};
        a.after = {0.9f, -0.9f};
        LayerLockReport untouched;
        untouched.layer = "fc1.weight";
        WeightRangeChart chart;
        chart.setData({a, untouched});
        QCOMPARE(chart.plot()->graphCount(), 3);
        QCOMPARE(chart.plot()->graph(0)->data()->at(0)->value, -1.0); // min
        QCOMPARE(chart.plot()->graph(1)->data()->at(0)->value, 1.0); // max
        QCOMPARE(chart.plot()->graph(2)->dataCount(), 2); // encrypted weights
        QCOMPARE(chart.pointsOutsideRange(), 0);
        QVERIFY(chart.plot()->yAxis->range().contains(1.0) && chart.plot()->yAxis->range().contains(-1.0));
        QCOMPARE(chart.csv().trimmed().split(QLatin1Char('\n')).size(), 3); // layers without changes are left out
        QTemporaryDir dir;
        QVERIFY(chart.exportTo(dir.filePath(QStringLiteral("fig3.png"))));
        QVERIFY(chart.exportTo(dir.filePath(QStringLiteral("fig3.pdf"))));
        QVERIFY(QFileInfo(dir.filePath(QStringLiteral("fig3.png"))).size() > 1000);
        QVERIFY(chart.title().contains(QLatin1String("stay inside")));
        // A weight clamped to the model-wide range (NNSplitter's default) can leave its layer's: the title says so.
        a.after = {1.3f, -0.9f};
        chart.setData({a});
        QCOMPARE(chart.pointsOutsideRange(), 1);
        QVERIFY2(chart.title().contains(QLatin1String("1 encrypted weight lies outside")), qPrintable(chart.title()));
    }

    void histogramCountsMeanAndStd()
    {
        const Histogram h = Histogram::of({0.0f, 0.1f, 0.5f, 0.9f, 1.0f}, 0.0, 1.0, 2);
        QCOMPARE(h.counts, (std::vector<double>{2.0, 3.0})); // 1.0 falls into the last bin
        QCOMPARE(h.mean, (0.0 + 0.1f + 0.5 + 0.9f + 1.0) / 5.0);
        QVERIFY(std::abs(h.std - std::sqrt(0.82 / 4.0)) < 1e-6); // sample std: squares .25 .16 0 .16 .25

        WeightHistogramChart chart(QStringLiteral("test"));
        chart.setData({0.0f, 0.5f, 1.0f}, {0.0f, 0.5f, 0.9f}, 4, {0.9f});
        QCOMPARE(chart.before().counts, (std::vector<double>{1.0, 0.0, 1.0, 1.0}));
        QCOMPARE(chart.after().counts, (std::vector<double>{1.0, 0.0, 1.0, 1.0}));
        QCOMPARE(chart.plot()->graphCount(), 3); // before, after, the marked-weights legend entry
        QVERIFY(chart.plot()->graph(0)->name().contains(QLatin1String("mean 0.5")));
        QCOMPARE(chart.csv().trimmed().split(QLatin1Char('\n')).size(), 5);
    }
};

QTEST_MAIN(TestCharts)
#include "tst_charts.moc"
