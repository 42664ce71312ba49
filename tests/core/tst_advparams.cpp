#include "advparams.h"
#include "unlock.h"
#include "testmodels.h"
#include "training.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <cstring>
#include <random>
#include <set>

using namespace paramlock;
using namespace paramlock::testing;

namespace {

class RecordingProgress : public Progress
{
public:
    int cancelAt = -1;
    std::vector<LockStep> steps;
    std::vector<double> encrypting; ///< the fractions of the lock loop's reports
    bool advance(double fraction, const std::string &label) override
    {
        if (label.rfind("encrypting", 0) == 0)
            encrypting.push_back(fraction);
        return !cancelled();
    }
    bool lockStep(const LockStep &step) override
    {
        steps.push_back(step);
        if (int(steps.size()) == cancelAt)
            cancel();
        return !cancelled();
    }
};

constexpr int kClasses = 3;
constexpr int kInputs = 2;

// Four 1x1x2 "images"; the linear model's inputs are pixel / 255. Three classes,
// so that the gradient rows do not tie as they do with two.
Dataset handData()
{
    Dataset d;
    d.channels = 1;
    d.height = 1;
    d.width = kInputs;
    d.classCount = kClasses;
    d.pixels = {255, 51, 204, 102, 51, 255, 153, 153};
    d.labels = {1, 2, 0, 1};
    return d;
}

// Reference Algorithm 1 in double for the linear model W x (bias set to 0).
struct Reference
{
    std::vector<double> w;
    std::vector<double> mask = std::vector<double>(kClasses * kInputs, 1.0);
    double loss = 0.0;

    std::vector<double> gradient(const Dataset &d)
    {
        std::vector<double> g(w.size(), 0.0);
        loss = 0.0;
        const double n = double(d.size());
        for (int64_t s = 0; s < d.size(); ++s) {
            const double x[kInputs] = {d.image(s)[0] / 255.0, d.image(s)[1] / 255.0};
            double z[kClasses], p[kClasses], sum = 0.0;
            for (int k = 0; k < kClasses; ++k)
                z[k] = w[size_t(kInputs * k)] * x[0] + w[size_t(kInputs * k + 1)] * x[1];
            const double m = *std::max_element(z, z + kClasses);
            for (int k = 0; k < kClasses; ++k)
                sum += (p[k] = std::exp(z[k] - m));
            for (double &v : p)
                v /= sum;
            const int y = d.labels[size_t(s)];
            loss += -std::log(p[y]) / n;
            for (int k = 0; k < kClasses; ++k)
                for (int j = 0; j < kInputs; ++j)
                    g[size_t(kInputs * k + j)] += (p[k] - (k == y ? 1.0 : 0.0)) * x[j] / n;
        }
        return g;
    }
};

Model handModel(const std::vector<float> &w)
{
    Model m = *Model::create("linear", linearMeta(kInputs, kClasses), 0);
    m.setWeights("fc.weight", w);
    m.setWeights("fc.bias", std::vector<float>(kClasses, 0.0f));
    return m;
}

AdvParamsOptions paperOptions(std::vector<std::string> layers = {}, int randomLayers = 0)
{
    AdvParamsOptions o;
    o.settings.mode = LockMode::Paper;
    o.settings.layers = std::move(layers);
    o.settings.randomLayers = randomLayers;
    return o;
}

/** A key written to JSON and read back, as its payload. */
AdvParamsKey reread(const SecretKey &key)
{
    return *AdvParamsKey::of(*SecretKey::fromJson(key.toJson()));
}

uint32_t bits(float f)
{
    uint32_t b;
    std::memcpy(&b, &f, 4);
    return b;
}

} // namespace

class TestAdvParams : public QObject
{
    Q_OBJECT

private slots:
    void followsAlgorithmOneByHand()
    {
        const std::vector<float> w0 = {0.85f, -1.0f, 1.0f, 0.2f, -0.3f, 0.5f};
        const Model model = handModel(w0);
        const Dataset data = handData();
        AdvParamsOptions o = paperOptions({"fc.weight"});
        o.settings.maxIterations = 6;
        o.settings.theta = 0.07;
        o.settings.alpha = 0.05;
        o.settings.lossThreshold = 100.0;
        RecordingProgress progress;
        auto result = lockModel(model, data, o, progress);
        QVERIFY2(result.ok(), result.ok() ? "" : result.error().c_str());

        // min -1, max 1: eta = 0.07 * 2 = 0.14, T1 = -0.9, T2 = 0.9.
        const LayerLockReport &layer = result->layers.at(0);
        QCOMPARE(layer.lowerBound, -1.0 + 0.05 * 2.0);
        QCOMPARE(layer.upperBound, 1.0 - 0.05 * 2.0);

        Reference ref;
        ref.w.assign(w0.begin(), w0.end());
        int maskedSteps = 0;
        QCOMPARE(result->steps.size(), size_t(6));
        for (const AdvParamsStep &step : result->steps) {
            const auto g = ref.gradient(data);
            QVERIFY2(std::abs(step.loss - ref.loss) < 1e-5, qPrintable(QString::number(step.loss)));
            int64_t best = -1;
            double bestAbs = -1.0;
            for (int i = 0; i < kClasses * kInputs; ++i)
                if (std::abs(g[size_t(i)] * ref.mask[size_t(i)]) > bestAbs) {
                    bestAbs = std::abs(g[size_t(i)] * ref.mask[size_t(i)]);
                    best = i;
                }
            QCOMPARE(step.flatIndex, best);
            const double candidate = ref.w[size_t(best)] + 0.14 * (g[size_t(best)] > 0 ? 1.0 : -1.0);
            const bool masked = candidate < -0.9 || candidate > 0.9;
            QCOMPARE(step.masked, masked);
            maskedSteps += masked ? 1 : 0;
            if (masked)
                ref.mask[size_t(best)] = 0.0;
            const double updated = std::clamp(candidate, -0.9, 0.9);
            QVERIFY(std::abs(step.step - (updated - ref.w[size_t(best)])) < 1e-6);
            ref.w[size_t(best)] = double(float(updated));
        }
        // The case exercises the clip bound and the mask, not only free steps.
        QVERIFY(maskedSteps >= 1);
        const auto locked = *result->locked.weights("fc.weight");
        for (int i = 0; i < kClasses * kInputs; ++i) {
            QVERIFY(std::abs(locked[size_t(i)] - ref.w[size_t(i)]) < 1e-6);
            QVERIFY(locked[size_t(i)] >= -0.9f - 1e-6f && locked[size_t(i)] <= 0.9f + 1e-6f
                || locked[size_t(i)] == w0[size_t(i)]);
        }
        // The input model is untouched; the progress sink saw every step.
        QCOMPARE(*model.weights("fc.weight"), w0);
        QCOMPARE(progress.steps.size(), size_t(6));
        QVERIFY(result->finalLoss > result->initialLoss);
    }

    void strongModeKeepsItsPromises()
    {
        const Dataset data = separableImages(150, 5);
        const Model model = trainedLinear(data);
        QVERIFY(evaluate(model, data)->accuracy > 0.9);

        AdvParamsOptions o = strongLock(10);
        o.settings.seed = 3;
        RecordingProgress progress;
        auto result = lockModel(model, data, o, progress);
        QVERIFY2(result.ok(), result.ok() ? "" : result.error().c_str());
        QVERIFY(result->encryptedCount() > 0);
        QVERIFY(result->encryptedCount() <= 10); // the budget
        QCOMPARE(strongModeBudget(o.settings, 1000000), int64_t(10));
        // The default budget: 0.01% of the parameters, between 64 and 4096.
        QCOMPARE(strongModeBudget(AdvParamsSettings{}, 61706), int64_t(64));
        QCOMPARE(strongModeBudget(AdvParamsSettings{}, 11200000), int64_t(1120));
        QCOMPARE(strongModeBudget(AdvParamsSettings{}, 100000000), int64_t(4096));
        QVERIFY(evaluate(result->locked, data)->accuracy < evaluate(model, data)->accuracy - 0.3);
        // It stops at 0.8 x random guess on the encryption set, or at the budget above it.
        QCOMPARE(strongModeTarget(o.settings, 5), 0.16);
        QCOMPARE(strongModeTarget(o.settings, 10), 0.08);
        o.settings.targetAccuracy = 0.3;
        QCOMPARE(strongModeTarget(o.settings, 10), 0.3);
        o.settings.targetAccuracy = 0.0;
        QCOMPARE(result->reachedTarget, result->finalAccuracy <= 0.16);
        QCOMPARE(evaluate(result->locked, data)->accuracy, result->finalAccuracy);

        // Swaps: the layer holds exactly the same values, so its histogram, mean and std do not move.
        auto before = *model.weights("fc.weight");
        auto after = *result->locked.weights("fc.weight");
        QVERIFY(before != after);
        std::sort(before.begin(), before.end());
        std::sort(after.begin(), after.end());
        QCOMPARE(after, before);
        const LayerLockReport &layer = result->layers.at(0);
        QCOMPARE(layer.meanAfter, layer.meanBefore);
        for (float v : layer.after)
            QVERIFY(double(v) >= layer.lowerBound && double(v) <= layer.upperBound);
        // Every weight at most once.
        QCOMPARE(std::set<int64_t>(layer.positions.begin(), layer.positions.end()).size(), layer.positions.size());

        // Deterministic for a seed, bit-exact to unlock.
        Progress again;
        auto second = lockModel(model, data, o, again);
        QVERIFY(second.ok());
        QCOMPARE(second->locked.fingerprint(), result->locked.fingerprint());
        QCOMPARE(unlockModel(result->locked, result->key)->fingerprint(), model.fingerprint());
        // The seed draws among the candidates: another seed takes another path.
        o.settings.seed = 4;
        o.settings.candidates = 8;
        Progress other;
        auto third = lockModel(model, data, o, other);
        QVERIFY(third.ok());
        QCOMPARE(reread(third->key).settings.mode, LockMode::Strong);
        QCOMPARE(reread(third->key).settings.chunkSize, o.settings.chunkSize); // reproducible
        // Every step measured between one and `candidates` swaps with a forward pass.
        QVERIFY(result->lookaheadPasses >= result->iterations);
        QVERIFY(result->lookaheadPasses <= int64_t(result->iterations) * o.settings.candidates);
    }

    void strongModeReportsItsWayToTheTarget()
    {
        // Each step carries the encryption-set accuracy before its swap and the target the lock stops at; the bar
        // follows the accuracy's way from where it started to the target (or the budget, if nearer), never back.
        const Dataset data = separableImages(150, 5);
        const Model model = trainedLinear(data);
        AdvParamsOptions o = strongLock(200);
        o.settings.seed = 3;
        RecordingProgress progress;
        auto result = lockModel(model, data, o, progress);
        QVERIFY2(result.ok(), result.ok() ? "" : result.error().c_str());
        QVERIFY(result->reachedTarget);
        const double target = strongModeTarget(o.settings, data.classCount); // 0.8 x random guess
        QCOMPARE(int64_t(progress.steps.size()), int64_t(result->iterations));
        QCOMPARE(int64_t(progress.encrypting.size()), int64_t(result->iterations));
        QCOMPARE(progress.steps.front().accuracy, evaluate(model, data)->accuracy);
        double expected = 0.0;
        for (size_t k = 0; k < progress.steps.size(); ++k) {
            const LockStep &step = progress.steps[k];
            QCOMPARE(step.targetAccuracy, target);
            QVERIFY(step.accuracy > target); // a step is taken only above the target
            const double a0 = progress.steps.front().accuracy;
            expected = std::max({expected, 2.0 * double(k + 1) / 200.0, (a0 - step.accuracy) / (a0 - target)});
            QCOMPARE(progress.encrypting[k], std::min(1.0, expected));
        }
        QVERIFY(result->finalAccuracy <= target);
        // The last step's swap took the accuracy from above the target to the target: most of the bar is behind.
        QVERIFY(progress.encrypting.back() > 0.5);
        // Paper mode measures no accuracy per step.
        RecordingProgress paper;
        AdvParamsOptions p;
        p.settings.mode = LockMode::Paper;
        p.settings.allLayers = true;
        p.settings.maxIterations = 3;
        QVERIFY(lockModel(model, data, p, paper).ok());
        QVERIFY(!paper.steps.empty());
        for (const LockStep &step : paper.steps)
            QVERIFY(step.accuracy < 0.0 && step.targetAccuracy < 0.0);
    }

    void lookaheadMeasuresTheCandidatesBeforeTheDraw()
    {
        const Dataset data = separableImages(150, 5);
        const Model model = trainedLinear(data);
        AdvParamsOptions o = strongLock(2); // one swap
        o.settings.candidates = 1;
        Progress quiet;
        // With one candidate, measuring it changes nothing when it raises the objective, as the best first-order
        // swap of a trained model does.
        auto measured = lockModel(model, data, o, quiet);
        QVERIFY2(measured.ok(), measured.ok() ? "" : measured.error().c_str());
        QCOMPARE(measured->lookaheadPasses, int64_t(1));
        o.settings.lookahead = false;
        auto firstOrder = lockModel(model, data, o, quiet);
        QVERIFY(firstOrder.ok());
        QCOMPARE(firstOrder->lookaheadPasses, int64_t(0));
        QVERIFY(!reread(firstOrder->key).settings.lookahead);
        QCOMPARE(measured->locked.fingerprint(), firstOrder->locked.fingerprint());
        // With eight it measures up to eight at every step (fewer where fewer swaps raise the first-order
        // objective), more than one on the whole, and still reaches the target.
        o.settings.candidates = 8;
        o.settings.maxWeights = 40;
        o.settings.lookahead = true;
        auto eight = lockModel(model, data, o, quiet);
        QVERIFY2(eight.ok(), eight.ok() ? "" : eight.error().c_str());
        QVERIFY(eight->reachedTarget);
        QVERIFY(eight->iterations > 1);
        QVERIFY(eight->lookaheadPasses > eight->iterations);
        QVERIFY(eight->lookaheadPasses <= int64_t(eight->iterations) * 8);
        QCOMPARE(unlockModel(eight->locked, eight->key)->fingerprint(), model.fingerprint());
    }

    void lookaheadSampleIsDrawnAmongTheSamplesInPlay()
    {
        const Dataset data = separableImages(150, 5);
        const Model model = trainedLinear(data);
        AdvParamsOptions o = strongLock(40);
        o.settings.seed = 2;
        const auto sampledNote = [](const AdvParamsLock &lock, int64_t size) {
            const std::string wanted = "measured their candidates on " + std::to_string(size) + " samples";
            for (const std::string &note : lock.notes)
                if (note.find(wanted) != std::string::npos)
                    return true;
            return false;
        };
        Progress quiet;
        // 30 of the 150 samples: every step while more than 30 are in play measures on a draw of 30.
        o.settings.searchSample = 30;
        auto sampled = lockModel(model, data, o, quiet);
        QVERIFY2(sampled.ok(), sampled.ok() ? "" : sampled.error().c_str());
        QVERIFY(sampled->reachedTarget);
        QVERIFY(sampledNote(*sampled, 30));
        QCOMPARE(reread(sampled->key).settings.searchSample, int64_t(30));
        QCOMPARE(unlockModel(sampled->locked, sampled->key)->fingerprint(), model.fingerprint());
        // The draw is the seed's: the same lock again is the same lock.
        auto again = lockModel(model, data, o, quiet);
        QVERIFY(again.ok());
        QCOMPARE(again->locked.fingerprint(), sampled->locked.fingerprint());
        // A sample larger than the set, or 0 (the whole set), never draws.
        for (int64_t size : {int64_t(0), int64_t(1000)}) {
            o.settings.searchSample = size;
            auto whole = lockModel(model, data, o, quiet);
            QVERIFY2(whole.ok(), whole.ok() ? "" : whole.error().c_str());
            QVERIFY(whole->reachedTarget);
            QVERIFY(!sampledNote(*whole, size));
            QCOMPARE(reread(whole->key).settings.searchSample, size);
        }
    }

    void unlockIsBitExact()
    {
        const Model model = *Model::create("lenet5", imageMeta(1, 28, 10), 3);
        const Dataset data = randomImages(40, 1, 28, 10, 4);
        AdvParamsOptions o = paperOptions({}, 3);
        o.settings.seed = 11;
        o.settings.maxIterations = 10;
        Progress progress;
        auto result = lockModel(model, data, o, progress);
        QVERIFY2(result.ok(), result.ok() ? "" : result.error().c_str());
        QVERIFY(result->encryptedCount() > 0);
        QCOMPARE(result->secret.settings.layers.size(), size_t(3));
        QVERIFY(result->locked.fingerprint() != model.fingerprint());
        QCOMPARE(result->key.originalFingerprint, model.fingerprint());
        QCOMPARE(result->key.lockedFingerprint, result->locked.fingerprint());

        auto restored = unlockModel(result->locked, result->key);
        QVERIFY2(restored.ok(), restored.ok() ? "" : restored.error().c_str());
        QCOMPARE(restored->fingerprint(), model.fingerprint());
        for (const std::string &name : model.layerNames()) {
            const auto a = *model.weights(name);
            const auto b = *restored->weights(name);
            for (size_t i = 0; i < a.size(); ++i)
                QCOMPARE(bits(a[i]), bits(b[i]));
        }
        // Every encrypted weight stays inside its layer's [T1, T2]; positions are distinct.
        for (const LayerLockReport &layer : result->layers) {
            QCOMPARE(std::set<int64_t>(layer.positions.begin(), layer.positions.end()).size(), layer.positions.size());
            for (float v : layer.after)
                QVERIFY(double(v) >= layer.lowerBound - 1e-6 && double(v) <= layer.upperBound + 1e-6);
        }
        // The key survives its JSON form.
        auto parsed = SecretKey::fromJson(result->key.toJson());
        QVERIFY(parsed.ok());
        QCOMPARE(unlockModel(result->locked, *parsed)->fingerprint(), model.fingerprint());

        // In place: the same bits, without a copy; a key that does not restore the original leaves the model locked.
        Model target = result->locked.clone();
        UnlockTiming timing;
        QVERIFY(unlockInPlace(target, result->key, &timing).ok());
        QCOMPARE(target.fingerprint(), model.fingerprint());
        QCOMPARE(timing.copySeconds, 0.0);
        const SecretKey altered =
            editedKey(result->key, [](AdvParamsKey &k) { k.entries.back().perturbation += 1e-3; });
        Model stays = result->locked.clone();
        const auto failed = unlockInPlace(stays, altered);
        QVERIFY(!failed.ok());
        QVERIFY(QString::fromStdString(failed.error()).contains(QLatin1String("does not restore")));
        QCOMPARE(stays.fingerprint(), result->locked.fingerprint());
        QVERIFY(!unlockInPlace(target, result->key).ok()); // already unlocked: refused, untouched
        QCOMPARE(target.fingerprint(), model.fingerprint());
    }

    void savingWritesBothOrNothing()
    {
        const Model model = *Model::create("lenet5", imageMeta(1, 28, 10), 3);
        AdvParamsOptions o = paperOptions({"fc3.weight"});
        o.settings.maxIterations = 2;
        Progress progress;
        auto result = lockModel(model, randomImages(20, 1, 28, 10, 1), o, progress);
        QVERIFY(result.ok());
        QTemporaryDir dir;
        const std::string input = dir.filePath(QStringLiteral("model.pt")).toStdString();
        QVERIFY(model.save(input).ok());
        const std::string key = dir.filePath(QStringLiteral("key.json")).toStdString();
        // The model cannot be written (its folder is missing): the key must not stay behind.
        auto failed = saveLock(*result, dir.filePath(QStringLiteral("missing/locked.pt")).toStdString(), key, {input});
        QVERIFY(!failed.ok());
        QVERIFY(!QFileInfo::exists(QString::fromStdString(key)));
        QVERIFY(!saveLock(*result, input, key, {input}).ok());
        QVERIFY(!saveLock(*result, key, key, {input}).ok());
        QCOMPARE(Model::load(input)->fingerprint(), model.fingerprint());
        const std::string locked = dir.filePath(QStringLiteral("locked.pt")).toStdString();
        QVERIFY(saveLock(*result, locked, key, {input}).ok());
        QCOMPARE(unlockModel(*Model::load(locked), *SecretKey::load(key))->fingerprint(), model.fingerprint());
    }

    void reusingActivationsChangesNothing_data()
    {
        QTest::addColumn<QString>("architecture");
        QTest::addColumn<QString>("mode");
        QTest::addColumn<int>("side");
        QTest::newRow("lenet5 paper") << "lenet5"
                                      << "paper" << 28;
        QTest::newRow("lenet5 strong") << "lenet5"
                                       << "strong" << 28;
        QTest::newRow("densenet paper") << "densenet-fmnist"
                                        << "paper" << 28;
        QTest::newRow("resnet56 paper") << "resnet56"
                                        << "paper" << 32;
    }

    void reusingActivationsChangesNothing()
    {
        // Computing the activations below the changed layer once must pick exactly the weights that a full
        // forward pass every iteration picks.
        QFETCH(QString, architecture);
        QFETCH(QString, mode);
        QFETCH(int, side);
        const int channels = architecture == QLatin1String("resnet56") ? 3 : 1;
        const Model model = *Model::create(architecture.toStdString(), imageMeta(channels, side, 10), 3);
        const Dataset data = randomImages(12, channels, side, 10, 4);
        AdvParamsOptions options;
        options.settings.chunkSize = 5;
        options.settings.mode = *modeFromId(mode.toStdString());
        options.settings.maxIterations = 2;
        options.settings.seed = 9;
        if (mode == QLatin1String("paper"))
            options.settings.randomLayers = 4;
        else {
            options.settings.allLayers = true;
            options.settings.maxWeights = 6;
            options.settings.targetAccuracy = 0.01;
        }
        const std::string differs = reuseChangesNothing(model, data, options);
        QVERIFY2(differs.empty(), differs.c_str());
    }

    void deterministicForASeed()
    {
        const Model model = *Model::create("lenet5", imageMeta(1, 28, 10), 3);
        const Dataset data = randomImages(30, 1, 28, 10, 4);
        AdvParamsOptions o = paperOptions({}, 2);
        o.settings.seed = 5;
        o.settings.maxIterations = 5;
        Progress p1, p2, p3;
        auto a = lockModel(model, data, o, p1);
        auto b = lockModel(model, data, o, p2);
        QVERIFY(a.ok() && b.ok());
        QCOMPARE(a->secret.settings.layers, b->secret.settings.layers);
        QCOMPARE(a->secret.entries.size(), b->secret.entries.size());
        for (size_t i = 0; i < a->secret.entries.size(); ++i) {
            QCOMPARE(a->secret.entries[i].index, b->secret.entries[i].index);
            QVERIFY(a->secret.entries[i].perturbation == b->secret.entries[i].perturbation);
        }
        QCOMPARE(a->locked.fingerprint(), b->locked.fingerprint());
        o.settings.seed = 6;
        auto c = lockModel(model, data, o, p3);
        QVERIFY(c.ok());
        QVERIFY(c->locked.fingerprint() != a->locked.fingerprint());
    }

    void stopsAtTheLossThreshold()
    {
        const Model model = handModel({0.85f, -1.0f, 1.0f, 0.2f, -0.3f, 0.5f});
        AdvParamsOptions o = paperOptions({"fc.weight"});
        o.settings.maxIterations = 50;
        Progress probe;
        auto first = lockModel(model, handData(), o, probe);
        QVERIFY2(first.ok(), first.ok() ? "" : first.error().c_str());
        // A clipped step can lower the loss, so take the first later loss above the initial one:
        // a threshold between the two stops exactly there.
        size_t i = 1;
        while (i < first->steps.size() && first->steps[i].loss <= first->steps[0].loss)
            ++i;
        QVERIFY(i < first->steps.size());
        o.settings.lossThreshold = (first->steps[0].loss + first->steps[i].loss) / 2.0;
        RecordingProgress progress;
        auto result = lockModel(model, handData(), o, progress);
        QVERIFY2(result.ok(), result.ok() ? "" : result.error().c_str());
        QVERIFY(result->reachedTarget);
        QCOMPARE(result->iterations, int(i));
        QCOMPARE(progress.steps.size(), i + 1); // the last report carries the loss that stopped it
        QCOMPARE(progress.steps.back().index, int64_t(-1)); // no weight picked
        QVERIFY(result->finalLoss > o.settings.lossThreshold);
    }

    void cancelLeavesTheInputUntouched()
    {
        const Model model = *Model::create("lenet5", imageMeta(1, 28, 10), 3);
        const std::string before = model.fingerprint();
        RecordingProgress progress;
        progress.cancelAt = 2;
        AdvParamsOptions o = paperOptions({}, 2);
        auto result = lockModel(model, randomImages(20, 1, 28, 10, 1), o, progress);
        QVERIFY(!result.ok());
        QVERIFY(QString::fromStdString(result.error()).contains(QLatin1String("cancelled")));
        QCOMPARE(progress.steps.size(), size_t(2));
        QCOMPARE(model.fingerprint(), before);
    }

    void inPlaceLockMatchesTheCopyAndCancelPutsBack_data()
    {
        QTest::addColumn<QString>("mode");
        QTest::newRow("paper") << QStringLiteral("paper");
        QTest::newRow("strong") << QStringLiteral("strong");
    }

    void inPlaceLockMatchesTheCopyAndCancelPutsBack()
    {
        QFETCH(QString, mode);
        const Dataset data = randomImages(20, 1, 28, 10, 1);
        const Model original = *Model::create("lenet5", imageMeta(1, 28, 10), 3);
        const std::string before = original.fingerprint();
        AdvParamsOptions o = paperOptions({}, 2);
        o.settings.mode = *modeFromId(mode.toStdString());
        o.settings.allLayers = true;
        o.settings.maxWeights = 6;
        o.settings.targetAccuracy = 1e-9; // strong: spend the budget (a random LeNet is at random guess already)
        Progress quiet;
        auto copied = lockModel(original, data, o, quiet);
        QVERIFY2(copied.ok(), copied.ok() ? "" : copied.error().c_str());

        // The same key and locked weights, but on the model's own weights: no copy.
        Model own = original.clone();
        Progress again;
        auto inPlace = lockModelInPlace(own, data, o, again);
        QVERIFY2(inPlace.ok(), inPlace.ok() ? "" : inPlace.error().c_str());
        QCOMPARE(own.fingerprint(), copied->key.lockedFingerprint);
        QCOMPARE(inPlace->locked.fingerprint(), own.fingerprint());
        QCOMPARE(inPlace->key.toJson().size(), copied->key.toJson().size());
        QCOMPARE(inPlace->secret.entries.size(), copied->secret.entries.size());
        for (size_t i = 0; i < inPlace->secret.entries.size(); ++i) {
            QCOMPARE(inPlace->secret.entries[i].index, copied->secret.entries[i].index);
            QCOMPARE(inPlace->secret.entries[i].perturbation, copied->secret.entries[i].perturbation);
        }
        QVERIFY(unlockInPlace(own, inPlace->key).ok());
        QCOMPARE(own.fingerprint(), before);

        // Cancelled after its first step, of several: every weight it had changed is put back bit for bit.
        QVERIFY(copied->steps.size() >= 2);
        RecordingProgress cancelling;
        cancelling.cancelAt = 1;
        auto cancelled = lockModelInPlace(own, data, o, cancelling);
        QVERIFY(!cancelled.ok());
        QVERIFY(QString::fromStdString(cancelled.error()).contains(QLatin1String("cancelled")));
        QCOMPARE(cancelling.steps.size(), size_t(1));
        QCOMPARE(own.fingerprint(), before);
    }

    void refusesBadSettings_data()
    {
        QTest::addColumn<QString>("what");
        QTest::addColumn<QString>("expected");
        QTest::newRow("empty selection") << "empty"
                                         << "layer selection is empty";
        QTest::newRow("unknown layer") << "unknown"
                                       << "no conv/FC layer named \"conv9\"";
        QTest::newRow("duplicate layer") << "duplicate"
                                         << "listed twice";
        QTest::newRow("theta") << "theta"
                               << "theta must be";
        QTest::newRow("alpha") << "alpha"
                               << "alpha must be";
        QTest::newRow("mode") << "mode"
                              << "unknown lock mode";
        QTest::newRow("nan weight") << "nan"
                                    << "NaN or infinite";
        QTest::newRow("empty set") << "no-data"
                                   << "encryption set is empty";
    }

    void refusesBadSettings()
    {
        QFETCH(QString, what);
        QFETCH(QString, expected);
        Model model = *Model::create("lenet5", imageMeta(1, 28, 10), 3);
        Dataset data = randomImages(10, 1, 28, 10, 1);
        AdvParamsOptions o = paperOptions({"conv1.weight"});
        if (what == QLatin1String("empty"))
            o.settings.layers.clear();
        else if (what == QLatin1String("unknown"))
            o.settings.layers = {"conv9"};
        else if (what == QLatin1String("duplicate"))
            o.settings.layers = {"conv1", "conv1.weight"};
        else if (what == QLatin1String("theta"))
            o.settings.theta = -1;
        else if (what == QLatin1String("alpha"))
            o.settings.alpha = 0.5;
        else if (what == QLatin1String("mode"))
            o.settings.mode = static_cast<LockMode>(7);
        else if (what == QLatin1String("nan")) {
            auto w = *model.weights("fc2.weight");
            w[3] = std::nanf("");
            model.setWeights("fc2.weight", w);
        } else if (what == QLatin1String("no-data"))
            data = data.subset({});
        Progress progress;
        auto result = lockModel(model, data, o, progress);
        QVERIFY(!result.ok());
        QVERIFY2(QString::fromStdString(result.error()).contains(expected), result.error().c_str());
    }

    void randomLayerCountIsCappedWithANote()
    {
        const Model model = *Model::create("lenet5", imageMeta(1, 28, 10), 3);
        std::vector<std::string> notes;
        AdvParamsSettings s;
        s.randomLayers = 6;
        auto layers = resolveLayerSet(model, s, &notes);
        QVERIFY(layers.ok());
        QCOMPARE(*layers, model.layerNames());
        QCOMPARE(notes.size(), size_t(1));
    }

    void keyChecksTellModelsApart()
    {
        const Model model = *Model::create("lenet5", imageMeta(1, 28, 10), 3);
        const Model other = *Model::create("lenet5", imageMeta(1, 28, 10), 4);
        AdvParamsOptions o = paperOptions({"fc3.weight"});
        o.settings.maxIterations = 3;
        Progress progress;
        auto result = lockModel(model, randomImages(20, 1, 28, 10, 1), o, progress);
        QVERIFY(result.ok());
        QVERIFY(checkKey(result->locked, result->key).fits());
        QCOMPARE(checkKey(model, result->key).state, KeyFit::State::AlreadyUnlocked);
        const KeyFit foreign = checkKey(other, result->key);
        QCOMPARE(foreign.state, KeyFit::State::OtherModel);
        QVERIFY(QString::fromStdString(foreign.message).contains(QLatin1String("different model")));
        QVERIFY(!unlockModel(other, result->key).ok());

        const SecretKey outOfRange = editedKey(result->key, [](AdvParamsKey &k) { k.entries[0].index = 840; });
        QCOMPARE(checkKey(result->locked, outOfRange).state, KeyFit::State::BadEntries);
        const SecretKey wrongLayer = editedKey(result->key, [](AdvParamsKey &k) { k.entries[0].layer = "fc9.weight"; });
        QVERIFY(QString::fromStdString(unlockModel(result->locked, wrongLayer).error())
                    .contains(QLatin1String("fc9.weight")));
        const SecretKey tampered = editedKey(result->key, [](AdvParamsKey &k) { k.entries[0].perturbation *= 2.0; });
        auto bad = unlockModel(result->locked, tampered);
        QVERIFY(!bad.ok());
        QVERIFY(QString::fromStdString(bad.error()).contains(QLatin1String("fingerprint mismatch")));
    }
};

QTEST_GUILESS_MAIN(TestAdvParams)
#include "tst_advparams.moc"
