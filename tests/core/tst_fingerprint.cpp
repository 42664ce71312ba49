// User fingerprints: signals and subsets from the owner's secret, the registry, embedding and detection on a tiny
// model, tracing copies, removing a user.
#include "fingerprint.h"
#include "sealedkey.h"
#include "testmodels.h"
#include "text.h"
#include "unlock.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

using namespace paramlock;
using namespace paramlock::testing;

namespace {

Secret256 secretOf(uint8_t first)
{
    Secret256 s{};
    for (size_t i = 0; i < s.size(); ++i)
        s[i] = uint8_t(first + 11 * i);
    return s;
}

FingerprintSettings tinySettings()
{
    FingerprintSettings s;
    s.signalCount = 12;
    s.subsetSize = 4;
    s.epochs = 20;
    s.updateEpochs = 8;
    s.trainImages = 0;
    s.batchSize = 32;
    s.learningRate = 2e-3;
    s.seed = 3;
    s.microBatch = 4096; // one pass per step, as the thresholds were set (a measured size follows the load)
    return s;
}

struct Fixture
{
    Dataset train, test;
    Model model;
    FingerprintEmbedding shared; ///< alice, bob, carol in one model
};

const Fixture &fixture()
{
    static const Fixture f = [] {
        Fixture f;
        f.train = blockImages(2000, 7);
        f.test = blockImages(300, 99);
        f.model = trainedLeNet(f.train, 1);
        Progress quiet;
        const Secret256 owner = secretOf(1);
        auto made =
            embedFingerprints(f.model, f.train, tinySettings(), {"alice", "bob", "carol"}, false, quiet, &owner);
        if (!made)
            qFatal("fingerprinting the test model failed: %s", made.error().c_str());
        f.shared = std::move(*made);
        return f;
    }();
    return f;
}

const Detection &userIn(const FingerprintReport &report, const std::string &who)
{
    for (const Detection &d : report.users)
        if (d.who == who)
            return d;
    qFatal("no detection for %s", who.c_str());
}

} // namespace

class TestFingerprint : public QObject
{
    Q_OBJECT

private slots:
    void signalsComeFromTheSecretAlone()
    {
        const FingerprintSettings s = tinySettings();
        const auto a = fingerprintSignals(secretOf(1), s, 1, 28, 28);
        QCOMPARE(int(a.size()), s.signalCount);
        QVERIFY(a == fingerprintSignals(secretOf(1), s, 1, 28, 28));
        QVERIFY(a != fingerprintSignals(secretOf(2), s, 1, 28, 28));
        // Each signal replaces exactly one square of signalSize^2 pixels with black or white, and no two overlap.
        std::vector<int> covered(28 * 28, 0);
        for (const InputStamp &signal : a) {
            int count = 0, top = 28, left = 28, bottom = -1, right = -1;
            for (int i = 0; i < 28 * 28; ++i)
                if (signal.replaced[size_t(i)]) {
                    ++count;
                    ++covered[size_t(i)];
                    QVERIFY(signal.value[size_t(i)] == 0 || signal.value[size_t(i)] == 255);
                    top = std::min(top, i / 28), left = std::min(left, i % 28);
                    bottom = std::max(bottom, i / 28), right = std::max(right, i % 28);
                }
            QCOMPARE(count, s.signalSize * s.signalSize);
            QCOMPARE(bottom - top + 1, s.signalSize);
            QCOMPARE(right - left + 1, s.signalSize);
        }
        QVERIFY(std::all_of(covered.begin(), covered.end(), [](int c) { return c <= 1; }));
        // The owner's trigger is every signal laid over an image.
        std::vector<int> all(size_t(s.signalCount));
        std::iota(all.begin(), all.end(), 0);
        const InputStamp trigger = subsetStamp(a, all);
        QCOMPARE(int(std::count(trigger.replaced.begin(), trigger.replaced.end(), 1)),
            s.signalCount * s.signalSize * s.signalSize);
        // More signals than fit apart is refused, saying what to change.
        FingerprintSettings crowded = s;
        crowded.signalCount = 50; // 7 x 7 cells of 4 pixels on 28 x 28
        try {
            fingerprintSignals(secretOf(1), crowded, 1, 28, 28);
            QFAIL("50 signals were placed on a 28x28 image");
        } catch (const Failure &e) {
            QVERIFY(QString::fromUtf8(e.what()).contains(QLatin1String("at most 49")));
        }
    }

    void subsetsAreDeterministicDistinctAndSecret()
    {
        FingerprintSettings s; // the defaults: 5 of 16 signals, 4,368 subsets
        QCOMPARE(drawSubset(secretOf(1), s, "alice", 0), drawSubset(secretOf(1), s, "alice", 0));
        QVERIFY(drawSubset(secretOf(1), s, "alice", 0) != drawSubset(secretOf(1), s, "alice", 1));
        std::vector<FingerprintUser> users, others;
        std::set<std::vector<int>> seen;
        int differ = 0;
        for (int i = 0; i < 1000; ++i) {
            const std::string id = "user-" + std::to_string(i);
            auto u = registerUser(secretOf(1), s, id, users);
            QVERIFY2(u.ok(), id.c_str());
            QCOMPARE(int(u->subset.size()), s.subsetSize);
            QVERIFY(std::is_sorted(u->subset.begin(), u->subset.end()));
            QVERIFY(u->subset.front() >= 0 && u->subset.back() < s.signalCount);
            QVERIFY(seen.insert(u->subset).second); // distinct across 1,000 users
            QCOMPARE(u->subset, drawSubset(secretOf(1), s, id, u->attempt));
            users.push_back(*u);
            auto o = registerUser(secretOf(2), s, id, others);
            others.push_back(*o);
            differ += o->subset != u->subset;
        }
        QVERIFY(differ > 990); // another secret, other subsets (a match by chance: 1 in 4,368)
        // Registering the same name twice, or a name with a space, is refused.
        QVERIFY(!registerUser(secretOf(1), s, "user-3", users));
        auto bad = registerUser(secretOf(1), s, "a b", {});
        QVERIFY(!bad);
        QVERIFY(QString::fromStdString(bad.error()).contains(QLatin1String("without spaces")));
    }

    void theRegistryRoundTripsAndRefusesTamperingAndOtherModels()
    {
        const Fixture &f = fixture();
        const SecretKey &key = f.shared.registry;
        QCOMPARE(QString::fromStdString(key.method), QStringLiteral("fingerprint"));
        QCOMPARE(QString::fromStdString(key.mode), QStringLiteral("shared"));
        QCOMPARE(key.lockedFingerprint, f.shared.models.front().fingerprint());
        auto back = SecretKey::fromJson(key.toJson());
        QVERIFY(back.ok());
        auto decoded = FingerprintRegistry::of(*back);
        QVERIFY2(decoded.ok(), decoded ? "" : decoded.error().c_str());
        QCOMPARE(int(decoded->users.size()), 3);
        QCOMPARE(decoded->users[1].subset, f.shared.decoded.users[1].subset);
        QVERIFY(decoded->owner == secretOf(1));
        QCOMPARE(decoded->carriers.pixels, f.shared.decoded.carriers.pixels);
        QCOMPARE(decoded->carriers.size(), kOwnerImages);
        QVERIFY(std::none_of(decoded->carriers.labels.begin(), decoded->carriers.labels.end(),
            [](int32_t l) { return l == 0; })); // the carriers avoid the target class

        // An edited file fails its checksum.
        std::string text = key.toJson();
        const size_t at = text.find("carol");
        QVERIFY(at != std::string::npos);
        text.replace(at, 5, "carl_");
        auto edited = SecretKey::fromJson(text);
        QVERIFY(!edited);
        // A payload whose subset is not the owner's keyed draw is refused even with a fresh checksum.
        FingerprintRegistry forged = f.shared.decoded;
        forged.users[0].subset = forged.users[1].subset;
        SecretKey swapped = key;
        swapped.payload = forged.toPayload();
        auto refused = FingerprintRegistry::of(swapped);
        QVERIFY(!refused);
        QVERIFY(
            QString::fromStdString(refused.error()).contains(QLatin1String("not the one the owner's secret gives")));

        // Sealed with a password, it opens only with it.
        auto sealed = sealKey(key, "correct horse", "owner", KdfStrength{1, 8192});
        QVERIFY(sealed.ok());
        QVERIFY(openKey(*sealed, "correct horse").ok());
        QVERIFY(!openKey(*sealed, "wrong").ok());

        // Updating another model with it is refused, naming why.
        Progress quiet;
        auto other = updateFingerprints(f.model, key, f.train, {"dave"}, {}, quiet);
        QVERIFY(!other);
        QVERIFY(QString::fromStdString(other.error()).contains(QLatin1String("made for a different model")));
        // A model with other inputs is refused by the checks.
        Model wide = *Model::create("lenet5", imageMeta(3, 32, 10), 1);
        auto mismatch = checkFingerprints(wide, key);
        QVERIFY(!mismatch);
        QVERIFY(QString::fromStdString(mismatch.error()).contains(QLatin1String("3x32x32")));
    }

    void registeredUsersAreDetectedAndForgedOnesAreNot()
    {
        const Fixture &f = fixture();
        const Model &marked = f.shared.models.front();
        auto report = checkFingerprints(marked, f.shared.registry, 50, 9);
        QVERIFY(report.ok());
        QCOMPARE(QString::fromStdString(report->matches), QStringLiteral("the registered model"));
        for (const char *who : {"alice", "bob", "carol"}) {
            QVERIFY2(userIn(*report, who).accepted,
                qPrintable(QStringLiteral("%1: %2").arg(QLatin1String(who)).arg(userIn(*report, who).rate)));
            QCOMPARE(userIn(*report, who).images, kFingerprintImages);
        }
        QVERIFY(report->owner.rate >= 0.95);
        QVERIFY(report->owner.confidence > 0.8);
        double forgedSum = 0.0;
        int accepted = 0;
        for (const Detection &d : report->forged) {
            forgedSum += d.rate;
            accepted += d.accepted;
        }
        QVERIFY2(forgedSum / 50.0 < 0.2, qPrintable(QString::number(forgedSum / 50.0)));
        QVERIFY(accepted <= 2);
        // The clean answers are kept.
        const double before = *accuracyOn(f.model, f.test), after = *accuracyOn(marked, f.test);
        QVERIFY2(after > before - 0.05, qPrintable(QStringLiteral("%1 -> %2").arg(before).arg(after)));
        // The original model accepts nobody and does not answer the owner's trigger.
        auto original = checkFingerprints(f.model, f.shared.registry, 0);
        QVERIFY(original.ok());
        QVERIFY(original->matches.empty());
        QVERIFY(!original->owner.accepted);
        for (const char *who : {"alice", "bob", "carol"})
            QVERIFY2(!userIn(*original, who).accepted, who);
    }

    void theGenericAttacksObserveTheFingerprints()
    {
        const Fixture &f = fixture();
        Progress quiet;
        auto curve = pruningAttack(
            f.shared.models.front(), f.test, {0.0, 0.5}, true, quiet, 0, fingerprintObserver(f.shared.registry));
        QVERIFY2(curve.ok(), curve ? "" : curve.error().c_str());
        QCOMPARE(curve->points.size(), size_t(2));
        const auto &observed = curve->points[0].observed;
        QCOMPARE(observed.size(), size_t(6));
        QCOMPARE(QString::fromStdString(observed[0].first), QStringLiteral("owner"));
        auto report = checkFingerprints(f.shared.models.front(), f.shared.registry, 0);
        QCOMPARE(observed[0].second, report->owner.rate); // unpruned: what the check itself says
        QCOMPARE(QString::fromStdString(observed[3].first), QStringLiteral("users_accepted"));
        QCOMPARE(observed[3].second, 1.0);
        QCOMPARE(curve->points[1].observed.size(), size_t(6));
    }

    void aRemovedUserIsNoLongerAccepted()
    {
        const Fixture &f = fixture();
        Progress quiet;
        auto updated =
            updateFingerprints(f.shared.models.front(), f.shared.registry, f.train, {"dave"}, {"bob"}, quiet);
        QVERIFY2(updated.ok(), updated ? "" : updated.error().c_str());
        QVERIFY(updated->decoded.find("bob")->removed);
        QCOMPARE(updated->registry.originalFingerprint, f.shared.registry.originalFingerprint);
        auto report = checkFingerprints(updated->models.front(), updated->registry, 0);
        QVERIFY(report.ok());
        QVERIFY(userIn(*report, "alice").accepted);
        QVERIFY(userIn(*report, "carol").accepted);
        QVERIFY(userIn(*report, "dave").accepted);
        QVERIFY(!userIn(*report, "bob (removed)").accepted);
        QVERIFY(report->owner.accepted);
        // Removing twice, or someone unknown, is refused.
        QVERIFY(!updateFingerprints(updated->models.front(), updated->registry, f.train, {}, {"bob"}, quiet));
        QVERIFY(!updateFingerprints(updated->models.front(), updated->registry, f.train, {}, {"erin"}, quiet));
    }

    void binomialTailsAreExact()
    {
        // Reference values from the sum of the binomial terms (Python's math.comb).
        QVERIFY(std::abs(binomialTailLog10(100, 10, 0.05) - -1.5499312050021516) < 1e-9);
        QVERIFY(std::abs(binomialTailLog10(20, 3, 0.1) - -0.490699073640653) < 1e-9);
        QVERIFY(std::abs(binomialTailLog10(100, 85, 4.0 / 102.0) - -102.40972450268835) < 1e-6);
        QCOMPARE(binomialTailLog10(10, 0, 0.3), 0.0);
        QVERIFY(std::abs(binomialTailLog10(10, 10, 0.5) - 10.0 * std::log10(0.5)) < 1e-12);
        QVERIFY(std::isinf(binomialTailLog10(10, 11, 0.5)));
        // As the user reads it: an upper bound.
        QCOMPARE(chanceBelowText(-102.40972450268835), std::string("below 1e-102"));
        QCOMPARE(chanceBelowText(-1.5499312050021516), std::string("below 0.029"));
        QCOMPARE(chanceBelowText(-0.490699073640653), std::string("below 0.33"));
        QCOMPARE(chanceBelowText(0.0), std::string("1"));
    }

    void aLeakedCopyNamesItsLicensee()
    {
        const Fixture &f = fixture();
        Progress quiet;
        FingerprintSettings s = tinySettings();
        const Secret256 owner = secretOf(4);
        auto copies = embedFingerprints(f.model, f.train, s, {"north", "south", "east"}, true, quiet, &owner);
        QVERIFY2(copies.ok(), copies ? "" : copies.error().c_str());
        QCOMPARE(copies->models.size(), size_t(3));
        QCOMPARE(QString::fromStdString(copies->registry.mode), QStringLiteral("copies"));
        QCOMPARE(copies->registry.lockedFingerprint, f.model.fingerprint());
        const std::vector<std::string> ids = {"north", "south", "east"};
        for (size_t i = 0; i < ids.size(); ++i) {
            auto report = checkFingerprints(copies->models[i], copies->registry, 0);
            QVERIFY(report.ok());
            QVERIFY2(report->identified == ids[i],
                qPrintable(QStringLiteral("%1 %2 %3")
                               .arg(report->traced[0].rate)
                               .arg(report->traced[1].rate)
                               .arg(report->traced[2].rate)));
            QVERIFY2(report->margin >= 0.5, qPrintable(QString::number(report->margin)));
            // The evidence as a chance: far below one in a thousand for a clear margin on the carriers.
            QVERIFY2(report->falseAccusationLog10 < -3.0, qPrintable(QString::number(report->falseAccusationLog10)));
            QCOMPARE(report->matches, ids[i] + "'s copy");
            QVERIFY(report->owner.accepted);
        }
        // The original is nobody's copy.
        auto original = checkFingerprints(f.model, copies->registry, 0);
        QVERIFY(original->identified.empty());
        // Adding users to a tracing registry is refused with what to do instead.
        auto add = updateFingerprints(copies->models[0], copies->registry, f.train, {"west"}, {}, quiet);
        QVERIFY(!add);
        QVERIFY(QString::fromStdString(add.error()).contains(QLatin1String("--copies")));
    }

    void cancelAndBadRequestsLeaveTheInputUntouched()
    {
        const Fixture &f = fixture();
        const std::string before = f.model.fingerprint();
        CancelAt cancel(0); // at the first progress report
        auto cancelled = embedFingerprints(f.model, f.train, tinySettings(), {"alice"}, false, cancel);
        QVERIFY(!cancelled);
        QVERIFY(QString::fromStdString(cancelled.error()).contains(QLatin1String("cancelled")));
        Progress quiet;
        FingerprintSettings badTarget = tinySettings();
        badTarget.target = 10;
        auto target = embedFingerprints(f.model, f.train, badTarget, {"alice"}, false, quiet);
        QVERIFY(!target);
        QVERIFY(QString::fromStdString(target.error()).contains(QLatin1String("--target")));
        FingerprintSettings badSubset = tinySettings();
        badSubset.subsetSize = badSubset.signalCount;
        QVERIFY(!embedFingerprints(f.model, f.train, badSubset, {"alice"}, false, quiet));
        QVERIFY(!embedFingerprints(f.model, f.train, tinySettings(), {}, false, quiet));
        QVERIFY(!embedFingerprints(f.model, f.train, tinySettings(), {"alice", "alice"}, false, quiet));
        QCOMPARE(f.model.fingerprint(), before);
    }

    void weightNoiseTakesTheGradientBesideTheWeights()
    {
        const Fixture &f = fixture();
        const Dataset images = firstImages(f.train, 256);
        const auto plain = [](const Dataset &clean, std::mt19937_64 &, PoisonBatch &batch) { batch.addTrue(clean); };
        const auto tuned = [&](double noise, double rate) {
            Model m = f.model.clone();
            PoisonSchedule s;
            s.epochs = 1;
            s.learningRate = rate;
            s.batchSize = 32;
            s.seed = 5;
            s.weightNoise = noise;
            Progress quiet;
            auto ok = poisonedFineTune(m, images, s, plain, quiet);
            if (!ok || !*ok)
                qFatal("fine-tuning failed");
            return m.fingerprint();
        };
        // The noise is gone after every step: with no step size the weights come back bit for bit.
        QCOMPARE(tuned(0.2, 0.0), f.model.fingerprint());
        // It changes where the gradient is taken, hence the result; the same seed draws the same noise.
        QVERIFY(tuned(0.2, 1e-3) != tuned(0.0, 1e-3));
        QCOMPARE(tuned(0.2, 1e-3), tuned(0.2, 1e-3));
    }

    void learntSignalsTravelWithTheRegistry()
    {
        const Fixture &f = fixture();
        // The fixture's signals were not learnt: the registry keeps no values and the secret paints them.
        QVERIFY(f.shared.decoded.signalValues.empty());
        const std::vector<InputStamp> painted =
            fingerprintSignals(secretOf(1), tinySettings(), f.train.channels, f.train.height, f.train.width);
        QVERIFY(f.shared.decoded.signalStamps() == painted);
        SecretKey older = f.shared.registry; // a version-1 registry, from before signals could learn, reads as before
        const size_t version = older.payload.find("\"version\":2");
        QVERIFY(version != std::string::npos);
        older.payload.replace(version, 11, "\"version\":1");
        auto first = FingerprintRegistry::of(older);
        QVERIFY2(first.ok(), first ? "" : first.error().c_str());
        QVERIFY(first->signalStamps() == painted);

        FingerprintSettings s = tinySettings();
        s.signalStep = 4.0;
        Progress quiet;
        const Secret256 owner = secretOf(1);
        auto learnt = embedFingerprints(f.model, f.train, s, {"alice", "bob"}, false, quiet, &owner);
        QVERIFY2(learnt.ok(), learnt ? "" : learnt.error().c_str());
        const std::vector<uint8_t> &values = learnt->decoded.signalValues;
        QCOMPARE(values.size(), size_t(s.signalCount) * 3 * 3); // one value per signal pixel
        // They start from the painted black and white and move: some leave both ends, the painting is not kept.
        std::vector<uint8_t> start;
        for (const InputStamp &p : painted)
            for (size_t i : signalPixels(p))
                start.push_back(p.value[i]);
        QVERIFY(values != start);
        QVERIFY(std::any_of(values.begin(), values.end(), [](uint8_t v) { return v > 0 && v < 255; }));
        // The registry carries them: read back, its stamps are the learnt ones, and the model answers them.
        auto decoded = FingerprintRegistry::of(learnt->registry);
        QVERIFY2(decoded.ok(), decoded ? "" : decoded.error().c_str());
        QCOMPARE(decoded->signalValues, values);
        const std::vector<InputStamp> stamps = decoded->signalStamps();
        QVERIFY(stamps == withSignalValues(painted, values));
        QVERIFY(!(stamps == painted));
        auto report = checkFingerprints(learnt->models.front(), learnt->registry, 20, 4);
        QVERIFY(report.ok());
        QVERIFY2(userIn(*report, "alice").accepted, qPrintable(QString::number(userIn(*report, "alice").rate)));
        QVERIFY(report->owner.rate >= 0.9);

        // A registry whose values were cut short, or are not hex, is refused with what to do.
        FingerprintRegistry damaged = learnt->decoded;
        damaged.signalValues.pop_back();
        SecretKey cut = learnt->registry;
        cut.payload = damaged.toPayload();
        auto shortValues = FingerprintRegistry::of(cut);
        QVERIFY(!shortValues);
        QVERIFY2(QString::fromStdString(shortValues.error()).contains(QLatin1String("learnt signals are damaged")),
            shortValues.error().c_str());
        SecretKey garbled = learnt->registry;
        const size_t at = garbled.payload.find("\"signal_values\":\"");
        QVERIFY(at != std::string::npos);
        garbled.payload.replace(at + 17, 2, "zz");
        auto notHex = FingerprintRegistry::of(garbled);
        QVERIFY(!notHex);
        QVERIFY2(QString::fromStdString(notHex.error()).contains(QLatin1String("hex digits per pixel")),
            notHex.error().c_str());
        // Adding a user keeps the learnt values as they are (the owner's evidence keeps its form).
        auto added = updateFingerprints(learnt->models.front(), learnt->registry, f.train, {"carol"}, {}, quiet, 2);
        QVERIFY2(added.ok(), added ? "" : added.error().c_str());
        QCOMPARE(added->decoded.signalValues, values);
    }

    void cleanImagesCanCountMoreThanOnce()
    {
        const Fixture &f = fixture();
        const Dataset images = firstImages(f.test, 3);
        PoisonBatch batch(10);
        batch.addTrue(images);
        batch.addTrue(images, 2.0f);
        QCOMPARE(int(batch.targets().size()), 6 * 10);
        for (int row = 0; row < 6; ++row) {
            const int label = images.labels[size_t(row % 3)];
            const float weight = row < 3 ? 1.0f : 2.0f;
            for (int c = 0; c < 10; ++c)
                QCOMPARE(batch.targets()[size_t(row * 10 + c)], c == label ? weight : 0.0f);
        }
    }

    void microBatchesSumToTheStepOfOnePass()
    {
        // LeNet-5 has no BatchNorm, so a step run in micro-batches is the same step as one pass, up to rounding; the
        // 30 images of a step (10 clean, 20 stamped) do not divide into passes of 8, so the last pass is smaller.
        // Passes mix the step's images with a generator of their own: the image order and every draw stay the same.
        const Fixture &f = fixture();
        const Dataset images = firstImages(f.train, 40);
        InputStamp stamp = InputStamp::none(images.channels, images.height, images.width);
        std::fill(stamp.add.begin(), stamp.add.begin() + images.width, int16_t(60)); // the first row, brighter
        const auto compose = [&](const Dataset &clean, std::mt19937_64 &, PoisonBatch &batch) {
            batch.addTrue(clean);
            batch.addLabel(stamped(clean, stamp), 0);
            batch.addUniform(stamped(clean, stamp));
        };
        struct Losses : Progress
        {
            std::vector<double> seen;
            bool lockStep(const LockStep &step) override
            {
                seen.push_back(step.loss);
                return true;
            }
        };
        const auto flat = [](const Model &m) {
            std::vector<float> all;
            for (const std::string &name : m.parameterNames()) {
                const std::vector<float> v = *m.values(name);
                all.insert(all.end(), v.begin(), v.end());
            }
            return all;
        };
        const auto tuned = [&](int chunk, Losses &losses, MicroBatch *used = nullptr) {
            Model m = f.model.clone();
            PoisonSchedule s;
            s.epochs = 2;
            s.batchSize = 10;
            s.seed = 5;
            s.chunk = chunk;
            s.weightNoise = 0.1; // drawn every step: the measured choice must not change the draws
            auto ok = poisonedFineTune(m, images, s, compose, losses, used);
            if (!ok || !*ok)
                qFatal("fine-tuning failed");
            return flat(m);
        };
        Losses whole, chunked, single, measured;
        MicroBatch chosen;
        const std::vector<float> a = tuned(30, whole), b = tuned(8, chunked), c = tuned(4096, single);
        forgetMeasuredMicroBatches(); // the fixture measured LeNet-5 already: measure again
        const std::vector<float> d = tuned(0, measured, &chosen);
        QCOMPARE(whole.seen.size(), size_t(8));
        QCOMPARE(chunked.seen.size(), whole.seen.size());
        for (size_t i = 0; i < whole.seen.size(); ++i)
            QVERIFY2(std::abs(whole.seen[i] - chunked.seen[i]) < 1e-5 * std::abs(whole.seen[i]),
                qPrintable(QStringLiteral("step %1: loss %2 in one pass, %3 in passes of 8")
                               .arg(i)
                               .arg(whole.seen[i])
                               .arg(chunked.seen[i])));
        QCOMPARE(a.size(), b.size());
        // Adam divides by the gradient's size, so a weight whose gradient is rounding noise may step either way:
        // nearly every weight must agree, not all.
        const std::vector<float> start = flat(f.model);
        size_t apart = 0;
        double moved = 0.0;
        for (size_t i = 0; i < a.size(); ++i) {
            apart += std::abs(a[i] - b[i]) > 1e-5f;
            moved = std::max(moved, double(std::abs(a[i] - start[i])));
        }
        QVERIFY2(
            apart * 100 < a.size(), qPrintable(QStringLiteral("%1 of %2 weights differ").arg(apart).arg(a.size())));
        QVERIFY(moved > 1e-3); // it trained (Adam moves a weight by about the step size each step)
        QVERIFY(a == c); // a micro-batch as large as the step or larger is one pass, bit for bit
        QCOMPARE(single.seen, whole.seen);
        // Measured: no pass smaller than 32 images is tried, so a step of 30 runs in one pass.
        QCOMPARE(chosen.step, int64_t(30));
        QCOMPARE(chosen.size, int64_t(30));
        QVERIFY(chosen.measured);
        QVERIFY(a == d); // and the probe's passes changed no draw (the weight noise)
    }

    void theMethodIsRegisteredAsATrace()
    {
        const ProtectionMethod *m = methodById("fingerprint");
        QVERIFY(m != nullptr);
        QVERIFY(m->can(Capability::Trace));
        QVERIFY(!m->can(Capability::Lock));
        QVERIFY(QString::fromStdString(methodIds(Capability::Lock)).indexOf(QLatin1String("fingerprint")) < 0);
        QVERIFY(m->checkPayload(fixture().shared.registry).ok());
        const KeyFit fit = m->checkKey(fixture().model, fixture().shared.registry);
        QVERIFY(!fit.fits());
        QVERIFY(QString::fromStdString(fit.message).contains(QLatin1String("fingerprint verify")));
    }
};

QTEST_GUILESS_MAIN(TestFingerprint)
#include "tst_fingerprint.moc"
