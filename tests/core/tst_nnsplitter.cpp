// NNSplitter on tiny models and synthetic data: the window mask against a hand computation, the clamp range, the
// untouched weights, determinism, cancel, and early stopping on the validation split.
#include "attacks.h"
#include "nnsplitter.h"
#include "testmodels.h"
#include "unlock.h"

#include <QtTest>

#include <algorithm>
#include <cstring>
#include <set>

using namespace paramlock;
using namespace paramlock::testing;

namespace {

struct Fixture
{
    Dataset train;
    Model model;
};

const Fixture &fixture()
{
    static const Fixture f = [] {
        Fixture f;
        f.train = blockImages(400, 11);
        f.model = trainedLeNet(f.train, 5);
        return f;
    }();
    return f;
}

/** Small and quick: 300 training images, 100 validation, at most 6 epochs. */
NNSplitterSettings quickSettings(uint64_t seed = 0)
{
    NNSplitterSettings s;
    s.samples = 300;
    s.validation = 100;
    s.batchSize = 50;
    s.maxEpochs = 6;
    s.maxWeights = 80;
    s.seed = seed;
    return s;
}

Dataset sampleOf(const NNSplitterSettings &s)
{
    return fixture().train.subset(*nnSplitterSample(fixture().train, s));
}

bool sameBits(float a, float b)
{
    return std::memcmp(&a, &b, sizeof(float)) == 0;
}

/** Cancels after `steps` epochs have been reported. */
class CancelAfter : public Progress
{
public:
    explicit CancelAfter(int steps) : m_left(steps) { }
    bool lockStep(const LockStep &) override
    {
        if (--m_left < 0)
            cancel();
        return !cancelled();
    }

private:
    int m_left;
};

} // namespace

class TestNNSplitter : public QObject
{
    Q_OBJECT

private slots:
    void eligibleLayersSkipPointwiseConvolutions()
    {
        const Model densenet = *Model::create("densenet-fmnist", imageMeta(1, 28, 10), 0);
        int64_t pointwise = 0;
        for (const LayerInfo &l : densenet.layers())
            pointwise += l.kind == "conv" && l.shape.back() == 1 ? 1 : 0;
        QVERIFY(pointwise > 0);
        const auto wide = eligibleLayers(densenet, false);
        const auto all = eligibleLayers(densenet, true);
        QCOMPARE(int64_t(all.size()), int64_t(densenet.layers().size()));
        QCOMPARE(int64_t(wide.size()), int64_t(all.size()) - pointwise);
        // LeNet-5: two 5x5 convolutions and three linear layers; a filter is an output channel or a row.
        const auto lenet = eligibleLayers(fixture().model, false);
        QCOMPARE(int(lenet.size()), 5);
        QCOMPARE(lenet[0].layer, std::string("conv1.weight"));
        QCOMPARE(lenet[0].filters, int64_t(6));
        QCOMPARE(lenet[0].filterSize, int64_t(25));
        QCOMPARE(lenet[4].filters, int64_t(10));
        QCOMPARE(lenet[4].filterSize, int64_t(84));
    }

    void windowMaskMatchesAHandComputation()
    {
        // A linear classifier 16 -> 3 with known weights: row r, column j holds (j - 8) / 10 + r / 100.
        Model model = *Model::create("linear", imageMeta(1, 4, 3), 0);
        std::vector<float> w(48);
        for (int r = 0; r < 3; ++r)
            for (int j = 0; j < 16; ++j)
                w[size_t(r * 16 + j)] = float((j - 8) / 10.0 + r / 100.0);
        QVERIFY(model.setWeights("fc.weight", w).ok());
        const auto layers = eligibleLayers(model, false);
        QCOMPARE(int(layers.size()), 1);
        const FilterChoice row1 = {{1}};
        // Budget 3 around c = 0.07: row 1 holds -0.79 ... 0.71 in steps of 0.1 (+0.01); the nearest to 0.07 are
        // 0.11 (j = 9), 0.01 (j = 8) and 0.21 (j = 10), at distances 0.04, 0.06, 0.14 (-0.09 is at 0.16): flat
        // indices 25, 24, 26.
        auto mask = windowMask(model, layers, row1, 0.07, 0.0, 3);
        QVERIFY2(mask.ok(), mask.ok() ? "" : mask.error().c_str());
        QCOMPARE(mask->count(), int64_t(3));
        QCOMPARE(mask->layers[0].indices, (std::vector<int64_t>{24, 25, 26}));
        QVERIFY(std::abs(mask->window - 0.14) < 1e-6);
        // An explicit window takes every weight with |w - c| < eps, whatever the budget: 0.01 and 0.11 (< 0.1).
        auto explicitWindow = windowMask(model, layers, row1, 0.07, 0.1, 1);
        QCOMPARE(explicitWindow->layers[0].indices, (std::vector<int64_t>{24, 25}));
        // Rows 0 and 2: in row 0 the nearest is 0.0 (j = 8, index 8), in row 2 0.02 (j = 8, index 40).
        auto twoRows = windowMask(model, layers, {{0, 2}}, 0.0, 0.0, 2);
        QCOMPARE(twoRows->layers[0].indices, (std::vector<int64_t>{8, 40}));
        // A weight the data never reaches is never taken: with index 25 dead, the third nearest is -0.09 (index 23).
        LiveWeights live(1, std::vector<bool>(48, true));
        live[0][25] = false;
        auto withoutDead = windowMask(model, layers, row1, 0.07, 0.0, 3, live);
        QCOMPARE(withoutDead->layers[0].indices, (std::vector<int64_t>{23, 24, 26}));
        // No weight in an explicit window is a clear error, not an empty lock.
        auto empty = windowMask(model, layers, row1, 5.0, 0.01, 3);
        QVERIFY(!empty.ok());
        QVERIFY(QString::fromStdString(empty.error()).contains(QLatin1String("--window")));
    }

    void weightsTheDataNeverReachesAreNeverTaken()
    {
        // A linear classifier on 4x4 images whose first column is always black: the weights of inputs 0, 4, 8 and 12
        // (every row) get no gradient from any image, so the ascent could never move them. Training left them at
        // their small initial values: all twelve are among the 20 nearest c, so a window blind to them would spend
        // more than half the budget on weights that cannot move.
        Dataset data = separableImages(400, 3);
        for (size_t i = 0; i < data.pixels.size(); ++i)
            if (i % 16 % 4 == 0)
                data.pixels[i] = 0;
        const Model model = trainedLinear(data);
        NNSplitterSettings s;
        s.samples = 300;
        s.validation = 100;
        s.batchSize = 50;
        s.maxEpochs = 3;
        s.maxWeights = 20;
        s.filtersPerLayer = 3;
        s.learningRate = 0.5;
        const auto isDead = [](int64_t index) { return index % 16 % 4 == 0; };
        const auto layers = eligibleLayers(model, false);
        auto blind = windowMask(model, layers, {{0, 1, 2}}, windowCentre(model, s), 0.0, 20);
        QVERIFY(blind.ok());
        QCOMPARE(std::count_if(blind->layers[0].indices.begin(), blind->layers[0].indices.end(), isDead), 12L);

        Model input = model;
        Progress quiet;
        auto lock = nnSplitterLock(input, false, data.subset(*nnSplitterSample(data, s)), s, quiet);
        QVERIFY2(lock.ok(), lock.ok() ? "" : lock.error().c_str());
        // The window took 20 live weights, and every one of them moved (a blind window: 8).
        QCOMPARE(lock->secret.entries.size(), size_t(20));
        for (const OriginalValue &e : lock->secret.entries)
            QVERIFY2(!isDead(e.index), qPrintable(QString("weight %1 is never reached by the data").arg(e.index)));
    }

    void theSampleSplitsIntoDisjointTrainingAndValidation()
    {
        NNSplitterSettings s = quickSettings(3);
        const auto indices = *nnSplitterSample(fixture().train, s);
        QCOMPARE(int64_t(indices.size()), s.samples + s.validation);
        QCOMPARE(trainingPart(int64_t(indices.size()), s), s.samples);
        QCOMPARE(std::set<int64_t>(indices.begin(), indices.end()).size(), indices.size());
        // A split smaller than asked for is shared in the same proportion.
        s.samples = 900;
        s.validation = 300;
        QCOMPARE(int64_t(nnSplitterSample(fixture().train, s)->size()), int64_t(400));
        QCOMPARE(trainingPart(400, s), int64_t(300));
    }

    void lockKeepsEveryWeightInRangeAndTheRestUntouched_data()
    {
        QTest::addColumn<int>("range");
        QTest::newRow("model-wide") << int(ClampRange::Model);
        QTest::newRow("layer") << int(ClampRange::Layer);
    }

    void lockKeepsEveryWeightInRangeAndTheRestUntouched()
    {
        QFETCH(int, range);
        const Fixture &f = fixture();
        NNSplitterSettings s = quickSettings(1);
        s.range = ClampRange(range);
        Model input = f.model;
        Progress quiet;
        auto lock = nnSplitterLock(input, false, sampleOf(s), s, quiet);
        QVERIFY2(lock.ok(), lock.ok() ? "" : lock.error().c_str());
        QVERIFY(lock->encryptedCount() > 0 && lock->encryptedCount() <= s.maxWeights);
        float modelLow = 0, modelHigh = 0;
        for (const LayerInfo &l : f.model.layers()) {
            modelLow = std::min(modelLow, l.min);
            modelHigh = std::max(modelHigh, l.max);
        }
        int64_t changed = 0;
        for (const std::string &name : f.model.parameterNames()) {
            const std::vector<float> before = *f.model.weights(name), after = *lock->locked.weights(name);
            std::set<int64_t> masked;
            float low = modelLow, high = modelHigh;
            for (const LayerLockReport &r : lock->layers)
                if (r.layer == name) {
                    masked.insert(r.positions.begin(), r.positions.end());
                    if (s.range == ClampRange::Layer) {
                        low = r.min;
                        high = r.max;
                    }
                }
            for (size_t i = 0; i < before.size(); ++i) {
                if (masked.count(int64_t(i))) {
                    ++changed;
                    QVERIFY(after[i] >= low && after[i] <= high); // a masked weight never leaves its range
                    // and it was inside the window before the lock
                    QVERIFY(std::abs(double(before[i]) - lock->secret.centre) <= lock->secret.window + 1e-9);
                } else {
                    QVERIFY2(sameBits(before[i], after[i]), name.c_str()); // unmasked: untouched bit for bit
                }
            }
        }
        QCOMPARE(changed, lock->encryptedCount());
        QCOMPARE(int64_t(lock->secret.entries.size()), changed);
        // The locked model scores less than the original on the validation split, and the key restores it exactly.
        QVERIFY(lock->finalAccuracy < lock->epochs.front().validationAccuracy);
        QCOMPARE(unlockModel(lock->locked, lock->key)->fingerprint(), f.model.fingerprint());
    }

    void theSameSeedGivesTheSameLock()
    {
        const NNSplitterSettings s = quickSettings(2);
        Progress quiet;
        Model a = fixture().model, b = fixture().model;
        auto first = nnSplitterLock(a, false, sampleOf(s), s, quiet);
        auto second = nnSplitterLock(b, false, sampleOf(s), s, quiet);
        QVERIFY(first.ok() && second.ok());
        QCOMPARE(first->locked.fingerprint(), second->locked.fingerprint());
        QCOMPARE(first->secret.toPayload(), second->secret.toPayload());
        auto other = nnSplitterLock(a, false, sampleOf(quickSettings(4)), quickSettings(4), quiet);
        QVERIFY(other.ok());
        QVERIFY(other->locked.fingerprint() != first->locked.fingerprint());
    }

    void aWeakLockStartsAgainAndKeepsTheBestAttempt()
    {
        // 32 weights leave the tiny LeNet above 1.2 x random guess (seed 0): the lock restarts from the originals.
        NNSplitterSettings once = quickSettings(0);
        once.maxWeights = 32;
        once.maxEpochs = 3;
        once.restarts = 0;
        NNSplitterSettings thrice = once;
        thrice.restarts = 2;
        Model a = fixture().model, b = fixture().model;
        Progress quiet;
        auto first = nnSplitterLock(a, false, sampleOf(once), once, quiet);
        auto best = nnSplitterLock(b, false, sampleOf(thrice), thrice, quiet);
        QVERIFY2(first.ok() && best.ok(), first.ok() ? "" : first.error().c_str());
        QVERIFY(!first->reachedTarget);
        QCOMPARE(first->attempts, 1);
        QVERIFY(best->attempts >= 2 && best->attempts <= 3);
        QCOMPARE(best->attempts == 3, !best->reachedTarget); // it stops at the first attempt that reaches the target
        // The first attempt is the same ascent, so the best of three is never worse; and its key restores it.
        QVERIFY(best->finalAccuracy <= first->finalAccuracy);
        QVERIFY(QString::fromStdString(best->stopReason).contains(QLatin1String("attempt")));
        QCOMPARE(unlockModel(best->locked, best->key)->fingerprint(), fixture().model.fingerprint());
    }

    void cancelDuringTheAscentLeavesTheInputUntouched()
    {
        const NNSplitterSettings s = quickSettings(1);
        const std::string original = fixture().model.fingerprint();
        for (const bool inPlace : {false, true}) {
            Model input = fixture().model.clone();
            CancelAfter cancel(2); // epoch 0 and epoch 1 reported: weights have moved
            auto lock = nnSplitterLock(input, inPlace, sampleOf(s), s, cancel);
            QVERIFY(!lock.ok());
            QVERIFY(QString::fromStdString(lock.error()).contains(QLatin1String("cancelled")));
            QCOMPARE(input.fingerprint(), original);
            for (const std::string &name : fixture().model.parameterNames())
                QCOMPARE(*input.weights(name), *fixture().model.weights(name));
        }
    }

    void earlyStoppingReadsTheValidationSplit()
    {
        // The validation split gets labels the model never gives (each image's label shifted by one): the model
        // scores 0% there, so no epoch can drop it further. A lock that stops on the validation split stops after
        // exactly `patience` epochs and keeps epoch 0, changing nothing; one that read held-out data with true
        // labels (a test split) would drop and lock.
        NNSplitterSettings s = quickSettings(0);
        s.patience = 2;
        Dataset sample = sampleOf(s);
        const int64_t trainCount = trainingPart(sample.size(), s);
        Model input = fixture().model;
        auto predictions = predict(input, sample);
        for (int64_t i = trainCount; i < sample.size(); ++i)
            sample.labels[size_t(i)] = ((*predictions)[size_t(i)].label + 1) % 10;
        Progress quiet;
        auto lock = nnSplitterLock(input, false, sample, s, quiet);
        QVERIFY(!lock.ok());
        QVERIFY2(QString::fromStdString(lock.error())
                     .contains(QLatin1String("did not lower the validation accuracy (0.0%) "
                                             "in 2 epochs")),
            lock.error().c_str());

        // With true labels, the epochs' validation accuracies are the model's accuracy on exactly those images, and
        // the kept state is the lowest-accuracy one, not the last.
        Dataset honest = sampleOf(s);
        auto locked = nnSplitterLock(input, false, honest, s, quiet);
        QVERIFY2(locked.ok(), locked.ok() ? "" : locked.error().c_str());
        std::vector<int64_t> validation;
        for (int64_t i = trainCount; i < honest.size(); ++i)
            validation.push_back(i);
        const Dataset split = honest.subset(validation);
        QCOMPARE(locked->epochs.front().validationAccuracy, *accuracyOn(input, split));
        double lowest = 1.0;
        for (const ObfuscationEpoch &e : locked->epochs)
            lowest = std::min(lowest, e.validationAccuracy);
        QCOMPARE(locked->finalAccuracy, lowest);
        QCOMPARE(*accuracyOn(locked->locked, split), lowest);
        QCOMPARE(locked->epochs[size_t(locked->bestEpoch)].validationAccuracy, lowest);
    }

    void everySelectorLocks_data()
    {
        QTest::addColumn<QString>("selector");
        for (const char *id : {"saliency", "random", "reinforce"})
            QTest::newRow(id) << QString::fromLatin1(id);
    }

    void everySelectorLocks()
    {
        QFETCH(QString, selector);
        NNSplitterSettings s = quickSettings(0);
        s.selector = *selectorFromId(selector.toStdString());
        s.draws = 5;
        Model input = fixture().model;
        Progress quiet;
        auto lock = nnSplitterLock(input, false, sampleOf(s), s, quiet);
        QVERIFY2(lock.ok(), lock.ok() ? "" : lock.error().c_str());
        QCOMPARE(int(lock->trials.size()), s.selector == FilterSelector::Saliency ? 0 : 5);
        // A search keeps its best draw, and the final ascent goes on from it: never worse than that draw.
        if (!lock->trials.empty()) {
            double best = 1.0;
            for (const SelectionTrial &t : lock->trials)
                best = std::min(best, t.validationAccuracy);
            QVERIFY(lock->finalAccuracy <= best);
        }
        QCOMPARE(unlockModel(lock->locked, lock->key)->fingerprint(), fixture().model.fingerprint());
    }

    void theDetectionTestRunsOnItsLocks()
    {
        // The detection test is generic: it finds the secret positions as the weights the key restores.
        const NNSplitterSettings s = quickSettings(1);
        Model input = fixture().model;
        Progress quiet;
        auto lock = nnSplitterLock(input, false, sampleOf(s), s, quiet);
        QVERIFY(lock.ok());
        auto layers = detectionAnalysis(lock->locked, lock->key);
        QVERIFY2(layers.ok(), layers.ok() ? "" : layers.error().c_str());
        int64_t secret = 0;
        for (const LayerDetection &d : *layers) {
            secret += d.secretCount;
            QVERIFY(d.zScoreHits >= 0 && d.zScoreHits <= d.secretCount);
        }
        QCOMPARE(secret, lock->encryptedCount());
    }

    void tamperedPayloadsAreRefused()
    {
        const NNSplitterSettings s = quickSettings(1);
        Model input = fixture().model;
        Progress quiet;
        auto lock = nnSplitterLock(input, false, sampleOf(s), s, quiet);
        QVERIFY(lock.ok());
        auto secret = NNSplitterKey::of(lock->key);
        QVERIFY(secret.ok());
        QCOMPARE(secret->entries.size(), lock->secret.entries.size());
        for (size_t i = 0; i < secret->entries.size(); ++i)
            QVERIFY(sameBits(secret->entries[i].value, lock->secret.entries[i].value));
        SecretKey edited = lock->key;
        edited.payload.replace(edited.payload.find("\"original\":"), 11, "\"original\":0.1000000000001,\"x\":");
        QVERIFY(!NNSplitterKey::of(edited).ok());
        SecretKey other = lock->key;
        other.method = "advparams";
        QVERIFY(!NNSplitterKey::of(other).ok());
    }
};

QTEST_GUILESS_MAIN(TestNNSplitter)
#include "tst_nnsplitter.moc"
