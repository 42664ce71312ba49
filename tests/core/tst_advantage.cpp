// The attacker-advantage analysis on tiny models: PyTorch's default re-initialisation per layer type (every parameter
// changes, BatchNorm reset, the bounds of kaiming-uniform, reproducible by seed; a TorchScript export alike), R = 1
// exactly when the "lock" is the baseline's own initialisation, an unlocked model is the ceiling, the quick and full
// grids' run counts, the plain-words level, bad input and cancel.
#include "advantage.h"
#include "analysis.h"
#include "testmodels.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace paramlock;
using namespace paramlock::testing;

namespace {

std::vector<float> valuesOf(const Model &m, const std::string &name)
{
    auto v = m.values(name);
    if (!v)
        qFatal("%s", v.error().c_str());
    return *v;
}

bool sameBits(const std::vector<float> &a, const std::vector<float> &b)
{
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

bool allEqual(const std::vector<float> &v, float x)
{
    return std::all_of(v.begin(), v.end(), [x](float y) { return y == x; });
}

/** Every parameter changed (no tensor kept bit for bit) and every BatchNorm at its initial state. */
void checkFresh(const Model &before, const Model &fresh)
{
    const auto names = before.parameterNames();
    QCOMPARE(fresh.parameterNames(), names);
    for (const std::string &n : names)
        QVERIFY2(!sameBits(valuesOf(before, n), valuesOf(fresh, n)), n.c_str());
    int norms = 0;
    for (const ModuleInfo &m : fresh.modules()) {
        if (m.type.rfind("BatchNorm", 0) != 0)
            continue;
        ++norms;
        for (const std::string &p : m.parameters)
            QVERIFY2(allEqual(valuesOf(fresh, p), p.size() > 6 && p.substr(p.size() - 6) == "weight" ? 1.0f : 0.0f),
                p.c_str());
        for (const std::string &b : m.buffers) {
            const bool var = b.find("running_var") != std::string::npos;
            QVERIFY2(allEqual(valuesOf(fresh, b), var ? 1.0f : 0.0f), b.c_str());
            // Training had moved them.
            QVERIFY2(!allEqual(valuesOf(before, b), var ? 1.0f : 0.0f), b.c_str());
        }
    }
    QVERIFY(norms > 0);
}

/** A few steps of training, which moves every BatchNorm's affine parameters and statistics. */
void trainBriefly(Model &model, int channels, int side, int classes)
{
    Progress quiet;
    TrainOptions o;
    o.epochs = 1;
    o.batchSize = 16;
    o.learningRate = 0.05;
    auto r = train(model, randomImages(64, channels, side, classes, 3), nullptr, o, quiet);
    if (!r)
        qFatal("%s", r.error().c_str());
}

/** A tiny problem: the linear classifier on 4x4 images of three classes. */
const Dataset &trainSet()
{
    static const Dataset d = separableImages(300, 5);
    return d;
}
const Dataset &testSet()
{
    static const Dataset d = separableImages(150, 6);
    return d;
}
const Model &victim()
{
    static const Model m = trainedLinear(trainSet());
    return m;
}

AdvantageOptions tinySweep()
{
    AdvantageOptions o;
    o.sizes = {0, 6, 30};
    o.searchSize = 30;
    o.settings = {{"sgd", 0.05}, {"adam", 0.01}};
    o.steps = 20;
    o.batchSize = 8;
    o.minEpochs = 2;
    o.maxEpochs = 10;
    o.checkpoints = 2;
    o.seed = 7;
    return o;
}

} // namespace

class TestAdvantage : public QObject
{
    Q_OBJECT

private slots:
    void reinitialisationChangesEveryParameterAndResetsBatchNorm()
    {
        // The DenseNet of the zoo: convolutions without bias, BatchNorm everywhere, a linear classifier.
        Model model = *Model::create("densenet-fmnist", imageMeta(1, 28, 10), 3);
        trainBriefly(model, 1, 28, 10);
        const Model before = model.clone();
        auto fresh = model.reinitialised(11);
        QVERIFY2(fresh, fresh ? "" : fresh.error().c_str());
        checkFresh(before, *fresh);
        // The original is untouched.
        for (const std::string &n : model.parameterNames())
            QVERIFY(sameBits(valuesOf(before, n), valuesOf(model, n)));
    }

    void convAndLinearWeightsFollowKaimingUniform()
    {
        const Model model = trainedLeNet(blockImages(100, 3), 1);
        auto fresh = model.reinitialised(5);
        QVERIFY(fresh);
        int checked = 0;
        for (const LayerInfo &layer : fresh->layers()) {
            // fan_in: every dimension but the first (output channels or features).
            const double fanIn = double(layer.count / layer.shape[0]);
            const double bound = 1.0 / std::sqrt(fanIn);
            // U(-b, b): inside the bound, and the std of a uniform distribution, b / sqrt(3), within 10%.
            QVERIFY2(std::max(-layer.min, layer.max) <= bound, layer.name.c_str());
            QVERIFY2(std::abs(layer.std / (bound / std::sqrt(3.0)) - 1.0) < 0.1, layer.name.c_str());
            const auto bias = fresh->values(layer.module + ".bias");
            QVERIFY(bias);
            for (float b : *bias)
                QVERIFY2(std::abs(b) <= bound, layer.name.c_str());
            ++checked;
        }
        QCOMPARE(checked, 5);
    }

    void theSameSeedGivesTheSameWeightsAndAnotherSeedOthers()
    {
        const Model &model = victim();
        auto a = model.reinitialised(1), b = model.reinitialised(1), c = model.reinitialised(2);
        QVERIFY(a && b && c);
        for (const std::string &n : model.parameterNames()) {
            QVERIFY(sameBits(valuesOf(*a, n), valuesOf(*b, n)));
            QVERIFY(!sameBits(valuesOf(*a, n), valuesOf(*c, n)));
        }
    }

    void aTorchScriptExportIsReinitialisedByItsLayerTypes()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("small.pt"));
        QProcess python;
        python.start(QStringLiteral("/usr/bin/python3"),
            {qEnvironmentVariable("PARAMLOCK_TESTS") + QStringLiteral("/integration/pytorch_user.py"),
                QStringLiteral("export"), path});
        QVERIFY(python.waitForFinished(120000));
        QVERIFY2(python.exitCode() == 0, python.readAllStandardError().constData());
        auto model = Model::load(path.toStdString());
        QVERIFY2(model, model ? "" : model.error().c_str());
        QStringList types;
        for (const ModuleInfo &m : model->modules())
            types << QString::fromStdString(m.type);
        QVERIFY2(types.contains(QStringLiteral("Conv2d")) && types.contains(QStringLiteral("BatchNorm2d"))
                && types.contains(QStringLiteral("Linear")),
            qPrintable(types.join(QLatin1Char(','))));
        ModelMetadata meta = model->metadata();
        meta.channels = 1;
        meta.height = meta.width = 28;
        meta.classCount = 10;
        model->setMetadata(meta);
        trainBriefly(*model, 1, 28, 10);
        auto fresh = model->reinitialised(4);
        QVERIFY(fresh);
        checkFresh(*model, *fresh);
    }

    void whenTheLockIsTheBaselinesOwnInitialisationRIsExactlyOne()
    {
        const AdvantageOptions o = tinySweep();
        const Model lock = *victim().reinitialised(o.seed);
        Progress quiet;
        auto r = advantageAnalysis(victim(), lock, trainSet(), testSet(), o, quiet);
        QVERIFY2(r, r ? "" : r.error().c_str());
        QCOMPARE(r->rows.size(), size_t(3));
        for (const AdvantageRow &row : r->rows) {
            QCOMPARE(row.attacker.accuracy, row.scratch.accuracy);
            QCOMPARE(row.ratio, 1.0);
            // 0, or undefined where the thief's data alone reaches the victim (this easy problem at k = 30).
            QVERIFY(std::isnan(row.advantage) || row.advantage == 0.0);
        }
        QCOMPARE(r->rows.front().advantage, 0.0);
        // Training helped the scratch curve (the analysis did train), and the victim is the ceiling's start.
        QVERIFY(r->rows.back().scratch.accuracy > r->rows.front().scratch.accuracy);
        QVERIFY(r->victimAccuracy > 0.9);
        QCOMPARE(r->rows.front().original.accuracy, r->victimAccuracy);
    }

    void anUnlockedModelIsWorthAsMuchAsTheOriginal()
    {
        const AdvantageOptions o = tinySweep();
        Progress quiet;
        auto r = advantageAnalysis(victim(), victim().clone(), trainSet(), testSet(), o, quiet);
        QVERIFY(r);
        for (const AdvantageRow &row : r->rows)
            QCOMPARE(row.attacker.accuracy, row.original.accuracy);
        QCOMPARE(r->rows.front().attacker.accuracy, r->victimAccuracy);
        QCOMPARE(r->rows.front().advantage, 1.0);
    }

    void theQuickGridSearchesOnceAndTheFullGridEverywhere()
    {
        AdvantageOptions o = tinySweep();
        o.grid = "quick";
        o.includeOriginal = false;
        const Model lock = *victim().reinitialised(99);
        Progress quiet;
        auto quick = advantageAnalysis(victim(), lock, trainSet(), testSet(), o, quiet);
        QVERIFY(quick);
        // Two curves: two settings at k = 30, one at k = 6, none at k = 0.
        QCOMPARE(quick->runs, 2 * 2 + 2 * 1);
        QCOMPARE(quick->rows.front().original.accuracy, -1.0);
        o.grid = "full";
        auto full = advantageAnalysis(victim(), lock, trainSet(), testSet(), o, quiet);
        QVERIFY(full);
        QCOMPARE(full->runs, 2 * 2 * 2);
        // At the search size both grids ran the same runs; elsewhere the full grid is at least as good.
        QCOMPARE(full->rows[2].attacker.accuracy, quick->rows[2].attacker.accuracy);
        QVERIFY(full->rows[1].scratch.accuracy >= quick->rows[1].scratch.accuracy);
        // Reproducible by seed.
        o.grid = "quick";
        auto again = advantageAnalysis(victim(), lock, trainSet(), testSet(), o, quiet);
        QVERIFY(again);
        for (size_t i = 0; i < again->rows.size(); ++i)
            QCOMPARE(again->rows[i].attacker.accuracy, quick->rows[i].attacker.accuracy);
    }

    void successiveHalvingStopsTheWorseHalfAndKeepsTheWinnersRun()
    {
        AdvantageOptions o = tinySweep();
        o.includeOriginal = false;
        o.sizes = {0, 30};
        // A learning rate that cannot learn beside one that does: halving stops the first at its first checkpoint.
        o.settings = {{"sgd", 1e-9}, {"adam", 0.01}};
        const Model lock = *victim().reinitialised(99);
        Progress quiet;
        o.grid = "quick";
        auto quick = advantageAnalysis(victim(), lock, trainSet(), testSet(), o, quiet);
        QVERIFY(quick);
        QCOMPARE(AdvantageOptions{}.grid, std::string("halving"));
        o.grid = "halving";
        auto halving = advantageAnalysis(victim(), lock, trainSet(), testSet(), o, quiet);
        QVERIFY(halving);
        // k = 30: 20 steps of 8 are 6 epochs, scored at epochs 3 and 6; two curves (attacker, scratch).
        QCOMPARE(quick->trainedImages, int64_t(2 * (6 + 6) * 30));
        QCOMPARE(halving->trainedImages, int64_t(2 * (3 + 6) * 30));
        QCOMPARE(halving->runs, quick->runs);
        // The surviving run is the quick grid's winner, bit for bit: interleaving it with the stopped one changed
        // nothing in its batches or its random stream.
        QCOMPARE(halving->rows.size(), size_t(2));
        for (size_t i = 0; i < 2; ++i) {
            QCOMPARE(halving->rows[i].attacker.accuracy, quick->rows[i].attacker.accuracy);
            QCOMPARE(halving->rows[i].attacker.epoch, quick->rows[i].attacker.epoch);
            QCOMPARE(halving->rows[i].scratch.accuracy, quick->rows[i].scratch.accuracy);
        }
        QCOMPARE(halving->rows[1].attacker.setting, std::string("Adam 0.01"));
        QVERIFY(halving->rows[1].attacker.accuracy > halving->rows[0].attacker.accuracy);
        QVERIFY2(halving->grid.find("successive halving") != std::string::npos, halving->grid.c_str());
    }

    void checkpointsAreChosenOnTheSampleAndReportedOnEveryImage()
    {
        AdvantageOptions o = tinySweep();
        o.includeOriginal = false;
        const Model lock = *victim().reinitialised(99);
        Progress quiet;
        const int64_t n = testSet().size();
        o.selectionImages = 0;
        auto all = advantageAnalysis(victim(), lock, trainSet(), testSet(), o, quiet);
        QVERIFY(all);
        QCOMPARE(all->selectionImages, n);
        // A sample as large as the scored set is that set: the same numbers.
        o.selectionImages = n + 100;
        auto same = advantageAnalysis(victim(), lock, trainSet(), testSet(), o, quiet);
        QVERIFY(same);
        for (size_t i = 0; i < all->rows.size(); ++i)
            QCOMPARE(same->rows[i].attacker.accuracy, all->rows[i].attacker.accuracy);
        QVERIFY(all->grid.find("on the first") == std::string::npos);

        o.selectionImages = 20;
        auto sampled = advantageAnalysis(victim(), lock, trainSet(), testSet(), o, quiet);
        QVERIFY(sampled);
        QCOMPARE(sampled->selectionImages, int64_t(20));
        QCOMPARE(sampled->testImages, n);
        QVERIFY2(sampled->grid.find("on the first 20 test images (each curve's winner scored on all 150)")
                != std::string::npos,
            sampled->grid.c_str());
        // Untrained points are the same full-set scores; trained ones are scores on all 150 images too.
        QCOMPARE(sampled->rows[0].attacker.accuracy, all->rows[0].attacker.accuracy);
        QCOMPARE(sampled->lockedAccuracy, all->lockedAccuracy);
        for (const AdvantageRow &row : sampled->rows)
            for (const CurvePoint &p : {row.attacker, row.scratch}) {
                const double correct = p.accuracy * double(n);
                QVERIFY2(std::abs(correct - std::round(correct)) < 1e-6, std::to_string(p.accuracy).c_str());
            }

        o.selectionImages = -1;
        auto refused = advantageAnalysis(victim(), lock, trainSet(), testSet(), o, quiet);
        QVERIFY(!refused);
        QVERIFY2(refused.error().find("selection sample") != std::string::npos, refused.error().c_str());
    }

    void aRepairCountsForTheAttackerWhenItDoesBetter()
    {
        AdvantageOptions o = tinySweep();
        o.repairName = "oracle";
        o.repairImages = 10;
        std::vector<int64_t> given, budgets;
        o.repair = [&given, &budgets](
                       const Model &, const Dataset &images, int64_t budget, Progress &) -> Expected<double> {
            given.push_back(images.size());
            budgets.push_back(budget);
            return 1.0;
        };
        const Model lock = *victim().reinitialised(99);
        Progress quiet;
        auto r = advantageAnalysis(victim(), lock, trainSet(), testSet(), o, quiet);
        QVERIFY(r);
        // k = 30 (the search size, first) gets its first 10 images, k = 6 all 6; never without data.
        QCOMPARE(given, (std::vector<int64_t>{10, 6}));
        QCOMPARE(budgets, (std::vector<int64_t>{20 * 8, 20 * 8})); // one run's passes: steps x batch
        QCOMPARE(r->rows[1].attacker.accuracy, 1.0);
        QCOMPARE(r->rows[1].attacker.setting, std::string("oracle"));
        QVERIFY(r->rows[0].attacker.setting != "oracle");
        QVERIFY2(r->grid.find("oracle on at most 10 of the thief's images") != std::string::npos, r->grid.c_str());

        // With a cap below every k, the repair runs once and its result stands for both.
        o.repairImages = 5;
        given.clear();
        auto capped = advantageAnalysis(victim(), lock, trainSet(), testSet(), o, quiet);
        QVERIFY(capped);
        QCOMPARE(given, (std::vector<int64_t>{5}));
        QCOMPARE(capped->rows[1].attacker.accuracy, 1.0);
        QCOMPARE(capped->rows[1].attacker.setting, std::string("oracle"));
        QCOMPARE(capped->rows[2].attacker.accuracy, 1.0);
    }

    void theProtectionLevelSaysWhatWasMeasured()
    {
        AdvantageResult r;
        r.victimAccuracy = 0.91;
        r.lockedAccuracy = 0.095;
        r.randomGuess = 0.1;
        AdvantageRow none;
        none.attacker = {0.095, "no training", 0};
        none.scratch = {0.1, "no training", 0};
        none.ratio = 0.95;
        AdvantageRow some;
        some.size = 1000;
        some.attacker = {0.84, "SGD 0.01", 40};
        some.scratch = {0.72, "Adam 0.001", 40};
        some.ratio = 0.84 / 0.72;
        some.advantage = (0.84 - 0.72) / (0.91 - 0.72);
        r.rows = {none, some};
        const std::string sparse = protectionLevel(r);
        QVERIFY2(sparse.find("Without data the locked model is useless (9.5%") == 0, sparse.c_str());
        QVERIFY2(
            sparse.find("With 1,000 labelled images a thief gets 84.0% from it, against 72.0%") != std::string::npos,
            sparse.c_str());
        QVERIFY2(sparse.find("R = 1.17") != std::string::npos, sparse.c_str());
        QVERIFY2(sparse.find("stops use, not retraining") != std::string::npos, sparse.c_str());
        r.rows[1].attacker.accuracy = 0.73;
        r.rows[1].ratio = 0.73 / 0.72;
        r.rows[1].advantage = 0.01 / 0.19;
        const std::string dense = protectionLevel(r);
        QVERIFY2(
            dense.find("worth nothing to a thief beyond the thief's own data") != std::string::npos, dense.c_str());
        r.lockedAccuracy = 0.5;
        QVERIFY(protectionLevel(r).find("still answers 50.0%") != std::string::npos);
        r.rows[1] = some;
        QVERIFY(protectionLevel(r).find("stops neither use nor retraining") != std::string::npos);
    }

    void badInputIsRefusedWithTheReason()
    {
        AdvantageOptions o = tinySweep();
        Progress quiet;
        o.sizes = {0, 100000};
        auto r = advantageAnalysis(victim(), victim(), trainSet(), testSet(), o, quiet);
        QVERIFY(!r);
        QVERIFY2(r.error().find("between 0 and the training set's 300") != std::string::npos, r.error().c_str());
        o = tinySweep();
        o.grid = "huge";
        QVERIFY(!advantageAnalysis(victim(), victim(), trainSet(), testSet(), o, quiet));
    }

    void cancelStopsWithoutAResultAndLeavesTheModelsAlone()
    {
        const Model lock = *victim().reinitialised(3);
        const std::string lockPrint = lock.fingerprint(), victimPrint = victim().fingerprint();
        CancelAt cancel(3);
        auto r = advantageAnalysis(victim(), lock, trainSet(), testSet(), tinySweep(), cancel);
        QVERIFY(!r);
        QVERIFY2(r.error().find("cancelled") != std::string::npos, r.error().c_str());
        QCOMPARE(lock.fingerprint(), lockPrint);
        QCOMPARE(victim().fingerprint(), victimPrint);
    }

    void theAnalysisViewDrawsThreeCurvesAndTheOriginal()
    {
        AnalysisContext c;
        const Model lock = *victim().reinitialised(tinySweep().seed);
        c.original = &victim();
        c.test = &testSet();
        AdvantageResult r;
        Progress quiet;
        r = *advantageAnalysis(victim(), lock, trainSet(), testSet(), tinySweep(), quiet);
        Analysis a = advantageView(r, emptyAnalysis("advantage", c));
        QCOMPARE(a.categories, (std::vector<std::string>{"0", "6", "30"}));
        QCOMPARE(a.series.size(), size_t(4));
        QCOMPARE(a.rows.size(), size_t(3));
        QCOMPARE(a.rows[1][4], std::string("1.00"));
        QVERIFY(!a.verdict.empty());
        QVERIFY(a.explanation.find("upper bound") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestAdvantage)
#include "tst_advantage.moc"
