// Forged licences tried as a forger would: the best of many on the images that picked it, then on images it was not
// picked on.
#include "securenet.h"
#include "training.h"
#include "testmodels.h"

#include <nlohmann/json.hpp>

#include <QtTest>

#include <algorithm>
#include <numeric>
#include <random>

using namespace paramlock;
using namespace paramlock::testing;

namespace {

/**
 * Images of noise alone with random labels: nothing in an image tells its label, and a forged pattern's ±32 grey
 * levels move the model's answer (a block model answers where the noise happens to be brightest).
 */
Dataset randomlyLabelled(int count, unsigned seed)
{
    Dataset data = blockImages(count, seed);
    std::mt19937 rng(seed + 1);
    for (auto &pixel : data.pixels)
        pixel = uint8_t(rng() % 256);
    for (auto &label : data.labels)
        label = int64_t(rng() % 10);
    return data;
}

const Dataset &blockTrain()
{
    static const Dataset data = blockImages(2000, 3);
    return data;
}

/** A LeNet-5 that tells the blocks apart (trained once for the file). */
const Model &blockModel()
{
    static const Model model = trainedLeNet(blockTrain(), 1);
    return model;
}

/** Of `data`'s predictions by `model`: the share that name `cls`, and the mean probability given to it. */
std::pair<double, double> answersOf(const Model &model, const Dataset &data, int cls)
{
    Dataset asked = data;
    std::fill(asked.labels.begin(), asked.labels.end(), cls); // each prediction's truth: the probability of `cls`
    auto answers = predict(model, asked);
    if (!answers)
        qFatal("classifying failed");
    double share = 0.0, probability = 0.0;
    for (const Prediction &p : *answers) {
        share += p.label == cls;
        probability += p.truth;
    }
    return {share / double(answers->size()), probability / double(answers->size())};
}

} // namespace

class TestLicenceForgeries : public QObject
{
    Q_OBJECT

private slots:
    void theBestAreMeasuredAgainOnImagesTheyWereNotPickedOn()
    {
        // A LeNet-5 that tells the blocks apart, on noise with random labels: every forged licence is a guess. Every
        // number is recomputed here from the same draws.
        const Model &model = blockModel();
        const Dataset test = randomlyLabelled(1000, 21);
        LicenceSettings s;
        s.kind = "noise";
        s.amplitude = 96; // a forged pattern moves the answers much: each is a fresh guess
        Progress quiet;
        const int count = 100, pickOn = 300, recheck = 4;
        auto f = tryForgedLicences(model, s, test, count, pickOn, 0, 77, recheck, quiet);
        QVERIFY2(f.ok(), f.ok() ? "" : f.error().c_str());
        QCOMPARE(f->count, int64_t(count));
        QCOMPARE(f->pickedOn, int64_t(pickOn));
        QCOMPARE(f->freshImages, int64_t(700));
        QCOMPARE(int(f->top.size()), recheck);

        std::mt19937_64 rng(77);
        std::vector<int64_t> rest(700);
        std::iota(rest.begin(), rest.end(), int64_t(pickOn));
        const Dataset picking = firstImages(test, pickOn), fresh = test.subset(rest);
        std::vector<std::pair<double, int>> scores;
        std::vector<LicenceSecret> secrets;
        double sum = 0.0;
        for (int i = 0; i < count; ++i) {
            secrets.push_back(drawnSecret(rng));
            const double a = *accuracyWithStamp(model, licencePattern(secrets.back(), s, 1, 28, 28), picking);
            scores.push_back({a, i});
            sum += a;
        }
        QCOMPARE(f->mean, sum / count);
        std::stable_sort(scores.begin(), scores.end(), [](const auto &a, const auto &b) { return a.first > b.first; });
        QCOMPARE(f->best, scores.front().first);
        double bestFresh = -1.0;
        for (int k = 0; k < recheck; ++k) {
            const auto &c = f->top[size_t(k)];
            QCOMPARE(c.secret, secrets[size_t(scores[size_t(k)].second)]);
            QCOMPARE(c.picked, scores[size_t(k)].first);
            QCOMPARE(c.fresh, *accuracyWithStamp(model, licencePattern(c.secret, s, 1, 28, 28), fresh));
            bestFresh = std::max(bestFresh, c.fresh);
        }
        QCOMPARE(f->bestFresh(), bestFresh);

        // The picking's bias: no forged licence knows anything of the labels, yet the best on the 300 images that
        // picked it scores above 1.2 x chance and two standard deviations above the mean; on the 700 images after
        // them the same licences are back near a tenth.
        const std::string numbers = "best " + std::to_string(f->best) + ", mean " + std::to_string(f->mean) + ", std "
            + std::to_string(f->std) + ", again " + std::to_string(f->top.front().fresh);
        QVERIFY2(f->best > 0.125 && f->best > f->mean + 2 * f->std, numbers.c_str());
        QVERIFY2(f->top.front().fresh < f->best - 0.03, numbers.c_str());
        QVERIFY2(std::abs(f->bestFresh() - 0.1) < 0.04, std::to_string(f->bestFresh()).c_str());
    }

    void aLimitBoundsBothSetsAndNoFreshImagesMeansNoRecheck()
    {
        const Model &model = blockModel();
        const Dataset test = randomlyLabelled(500, 5);
        LicenceSettings s;
        Progress quiet;
        auto f = tryForgedLicences(model, s, test, 5, 300, 400, 1, 3, quiet);
        QVERIFY(f.ok());
        QCOMPARE(f->freshImages, int64_t(100));
        QCOMPARE(int(f->top.size()), 3);
        auto none = tryForgedLicences(model, s, test, 5, 1000, 0, 1, 3, quiet);
        QVERIFY(none.ok());
        QCOMPARE(none->pickedOn, int64_t(500));
        QCOMPARE(none->freshImages, int64_t(0));
        QCOMPARE(none->bestFresh(), -1.0);
        for (const auto &c : none->top)
            QCOMPARE(c.fresh, -1.0);
        QVERIFY(!tryForgedLicences(model, s, test, 5, 0, 0, 1, 3, quiet).ok());

        // Cancelling stops with a clear answer and changes nothing.
        const std::string before = model.fingerprint();
        Progress cancelled;
        cancelled.cancel();
        auto stopped = tryForgedLicences(model, s, test, 5, 300, 0, 1, 3, cancelled);
        QVERIFY(!stopped.ok());
        QCOMPARE(stopped.error(), std::string("cancelled"));
        QCOMPARE(model.fingerprint(), before);
    }

    void aLeaningRefusalAnswersOneClassWhateverTheInput()
    {
        // Refused copies trained toward 0.7 x uniform + 0.3 on the refusal class (the seed's, 3 of 10): without a
        // licence and with forged ones the model names that class for (nearly) every image, with about 0.1 x 0.7 +
        // 0.3 = 0.37 of the probability; the licence still answers.
        LicenceSettings s;
        s.epochs = 10;
        s.cosine = false;
        s.batchSize = 32;
        s.learningRate = 2e-3;
        s.seed = 13;
        s.microBatch = 4096;
        s.refusalLean = 0.3;
        QCOMPARE(refusalClass(s, 10), 3);
        Progress quiet;
        LicenceSecret owner{};
        owner.fill(9);
        auto lock = licenceLock(blockModel(), blockTrain(), s, {*parseLicensee("alice", 10)}, quiet, &owner);
        QVERIFY2(lock.ok(), lock.ok() ? "" : lock.error().c_str());
        const Dataset test = blockImages(300, 99);
        const auto [share, probability] = answersOf(lock->licensed, test, 3);
        QVERIFY2(share > 0.95, std::to_string(share).c_str());
        QVERIFY2(std::abs(probability - 0.37) < 0.08, std::to_string(probability).c_str());
        std::mt19937_64 rng(4);
        for (int k = 0; k < 3; ++k) {
            const auto forged =
                answersOf(lock->licensed, stamped(test, licencePattern(drawnSecret(rng), s, 1, 28, 28)), 3);
            QVERIFY2(forged.first > 0.9, std::to_string(forged.first).c_str());
        }
        Licence alice = *Licence::of(*issueLicence(lock->registry, "alice"));
        auto check = checkLicence(lock->licensed, alice, test);
        QVERIFY(check.ok());
        QVERIFY2(check->licensed > 0.85, std::to_string(check->licensed).c_str());
        QVERIFY2(std::abs(check->withoutLicence - 0.1) < 0.02, // class 3's share of the test images
            std::to_string(check->withoutLicence).c_str());

        // The setting travels with the registry; a registry written before it reads 0 (the uniform output).
        nlohmann::json payload = nlohmann::json::parse(lock->registry.payload);
        QCOMPARE(payload["settings"]["refusal_lean"].get<double>(), 0.3);
        SecretKey edited = lock->registry;
        payload["settings"].erase("refusal_lean");
        edited.payload = payload.dump();
        QCOMPARE(LicenceRegistry::of(edited)->settings.refusalLean, 0.0);
    }
    void forgedCopiesMakeTheStep()
    {
        // Two licensees, 32 clean images a step: each licensee's copy, the clean copy and the forged copies make the
        // step, as the lock's notes say; 0 is one forged copy per licensee (the registries before the setting).
        Progress quiet;
        LicenceSecret owner{};
        owner.fill(4);
        SecretKey registry;
        for (const auto &[copies, images] : std::vector<std::pair<int, int>>{{1, 128}, {3, 192}, {0, 160}}) {
            LicenceSettings s;
            s.epochs = 1;
            s.trainImages = 64;
            s.batchSize = 32;
            s.microBatch = 4096;
            s.forgedCopies = copies;
            auto lock = licenceLock(blockModel(), blockTrain(), s,
                {*parseLicensee("alice", 10), *parseLicensee("bob:classes=0-4", 10)}, quiet, &owner);
            QVERIFY2(lock.ok(), lock.ok() ? "" : lock.error().c_str());
            const std::string want = "training: each step's " + std::to_string(images) + " images in one pass";
            const bool said = std::any_of(
                lock->notes.begin(), lock->notes.end(), [&](const std::string &n) { return n.rfind(want, 0) == 0; });
            QVERIFY2(said, (want + " missing for " + std::to_string(copies) + " forged copies").c_str());
            QCOMPARE(nlohmann::json::parse(lock->registry.payload)["settings"]["forged_copies"].get<int>(), copies);
            registry = lock->registry;
        }
        QCOMPARE(LicenceSettings().forgedCopies, 0); // a new lock's default: one per licensee
        nlohmann::json payload = nlohmann::json::parse(registry.payload);
        payload["settings"]["forged_copies"] = 2;
        SecretKey edited = registry;
        edited.payload = payload.dump();
        QCOMPARE(LicenceRegistry::of(edited)->settings.forgedCopies, 2);
        payload["settings"].erase("forged_copies"); // a registry written before the setting: one per licensee
        edited.payload = payload.dump();
        QCOMPARE(LicenceRegistry::of(edited)->settings.forgedCopies, 0);
    }
};

QTEST_GUILESS_MAIN(TestLicenceForgeries)
#include "tst_licenceforgeries.moc"
