// The dense lock on tiny models: the keyed permutation (a bijection, the same for the same secret, another for another
// secret or layer), every layer's values kept as a multiset, the unlock bit for bit, a wrong secret refused with the
// model left locked, a named layer set, and cancel.
#include "dense.h"
#include "training.h"
#include "testmodels.h"
#include "unlock.h"

#include <QtTest>

#include <algorithm>
#include <cstring>
#include <numeric>

using namespace paramlock;
using namespace paramlock::testing;

namespace {

DenseSecret secretOf(uint8_t fill)
{
    DenseSecret s;
    for (size_t i = 0; i < s.size(); ++i)
        s[i] = uint8_t(fill + 7 * i);
    return s;
}

const Model &trained()
{
    static const Model model = trainedLeNet(blockImages(400, 11), 5);
    return model;
}

bool sameBits(const std::vector<float> &a, const std::vector<float> &b)
{
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

} // namespace

class TestDense : public QObject
{
    Q_OBJECT

private slots:
    void thePermutationIsABijectionFixedByTheSecret()
    {
        for (int64_t n : {int64_t(0), int64_t(1), int64_t(2), int64_t(1000), int64_t(100003)}) {
            std::vector<int64_t> perm = keyedPermutation(secretOf(1), 0, n);
            QCOMPARE(int64_t(perm.size()), n);
            std::sort(perm.begin(), perm.end());
            std::vector<int64_t> identity(static_cast<size_t>(n));
            std::iota(identity.begin(), identity.end(), int64_t(0));
            QVERIFY(perm == identity);
        }
        const auto a = keyedPermutation(secretOf(1), 0, 1000);
        QVERIFY(a == keyedPermutation(secretOf(1), 0, 1000)); // the same secret and stream: the same permutation
        QVERIFY(a != keyedPermutation(secretOf(2), 0, 1000)); // another secret
        QVERIFY(a != keyedPermutation(secretOf(1), 1, 1000)); // another layer's stream
        // It moves almost everything: a uniform permutation of 1,000 has one fixed point on average.
        int64_t fixed = 0;
        for (size_t i = 0; i < a.size(); ++i)
            fixed += a[i] == int64_t(i) ? 1 : 0;
        QVERIFY(fixed < 10);
    }

    void everyLayerKeepsItsValuesAndTheKeyRestoresBitForBit()
    {
        const Model &model = trained();
        Model input = model;
        Progress quiet;
        auto lock = denseLock(input, false, DenseSettings{}, quiet);
        QVERIFY2(lock.ok(), lock.ok() ? "" : lock.error().c_str());
        QCOMPARE(input.fingerprint(), model.fingerprint()); // a copy was locked
        QCOMPARE(int(lock->layers.size()), int(model.layerNames().size()));
        int64_t moved = 0, total = 0;
        for (const std::string &name : model.layerNames()) {
            std::vector<float> before = *model.weights(name), after = *lock->locked.weights(name);
            QVERIFY(!sameBits(before, after));
            total += int64_t(before.size());
            for (size_t i = 0; i < before.size(); ++i)
                moved += before[i] != after[i] ? 1 : 0;
            std::sort(before.begin(), before.end());
            std::sort(after.begin(), after.end());
            QVERIFY2(sameBits(before, after), name.c_str()); // the same multiset: histogram, mean, std, min, max
        }
        QVERIFY(moved > total * 9 / 10);
        QCOMPARE(lock->encryptedCount(), moved);
        QCOMPARE(lock->key.secretCount, total);
        // The lock leaves the model useless (the tiny LeNet: 60.5% before, 0% after); the key gives the original back.
        const Dataset data = blockImages(200, 12);
        QVERIFY(evaluate(lock->locked, data)->accuracy < 0.3);
        QVERIFY(evaluate(model, data)->accuracy > 0.5);
        auto back = unlockModel(lock->locked, lock->key);
        QVERIFY2(back.ok(), back.ok() ? "" : back.error().c_str());
        QCOMPARE(back->fingerprint(), model.fingerprint());
    }

    void twoLocksDrawTwoSecrets()
    {
        Model input = trained();
        Progress quiet;
        auto a = denseLock(input, false, DenseSettings{}, quiet);
        auto b = denseLock(input, false, DenseSettings{}, quiet);
        QVERIFY(a.ok() && b.ok());
        QVERIFY(a->secret.secret != b->secret.secret); // never derived from the seed
        QVERIFY(a->locked.fingerprint() != b->locked.fingerprint());
    }

    void aWrongSecretIsRefusedAndTheModelStaysLocked()
    {
        Model input = trained();
        Progress quiet;
        const DenseSecret secret = secretOf(9);
        auto lock = denseLock(input, false, DenseSettings{}, quiet, &secret);
        QVERIFY(lock.ok());
        SecretKey forged = lock->key;
        DenseKey payload = *DenseKey::of(forged);
        payload.secret[0] ^= 1;
        forged.payload = payload.toPayload();
        Model locked = lock->locked;
        UnlockTiming timing;
        auto restored = denseMethod().restore(locked, forged, timing);
        QVERIFY(!restored.ok());
        QVERIFY(QString::fromStdString(restored.error()).contains(QLatin1String("fingerprint mismatch")));
        QCOMPARE(locked.fingerprint(), lock->locked.fingerprint());
        // A payload that is not 64 hex digits is refused before anything is applied.
        forged.payload = lock->key.payload;
        const auto at = forged.payload.find("\"secret\":\"") + 10;
        forged.payload[at] = 'x';
        QVERIFY(!DenseKey::of(forged).ok());
    }

    void aNamedLayerSetPermutesOnlyThoseLayers()
    {
        const Model &model = trained();
        DenseSettings settings;
        settings.layers.kind = LayerSelection::Kind::Named;
        settings.layers.names = {"conv1", "fc3.weight"};
        Model input = model;
        Progress quiet;
        auto lock = denseLock(input, false, settings, quiet);
        QVERIFY2(lock.ok(), lock.ok() ? "" : lock.error().c_str());
        QCOMPARE(int(lock->secret.layers.size()), 2);
        for (const std::string &name : model.layerNames()) {
            const bool chosen = name == "conv1.weight" || name == "fc3.weight";
            QCOMPARE(!sameBits(*model.weights(name), *lock->locked.weights(name)), chosen);
        }
        settings.layers.names = {"no-such-layer"};
        auto unknown = denseLock(input, false, settings, quiet);
        QVERIFY(!unknown.ok());
        QVERIFY(QString::fromStdString(unknown.error()).contains(QLatin1String("info")));
    }

    void cancelLeavesTheInputUntouched()
    {
        const Model &model = trained();
        Model input = model;
        CancelAt cancelAfterTwoLayers(2);
        auto lock = denseLock(input, true, DenseSettings{}, cancelAfterTwoLayers);
        QVERIFY(!lock.ok());
        QCOMPARE(input.fingerprint(), model.fingerprint()); // locked in place, put back on cancel
    }
};

QTEST_GUILESS_MAIN(TestDense)
#include "tst_dense.moc"
