// One suite over every registered method: what the Lock capability promises, whatever the method.
#include "atomicfile.h"
#include "lockworkflow.h"
#include "protectionmethod.h"
#include "sealedkey.h"
#include "testmodels.h"
#include "unlock.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cstring>
#include <set>

using namespace paramlock;
using namespace paramlock::testing;

namespace {

/** Every parameter (conv/FC weights, biases, BatchNorm), as raw bits: "bit for bit" means all of them. */
std::vector<std::pair<std::string, std::vector<float>>> allParameters(const Model &model)
{
    std::vector<std::pair<std::string, std::vector<float>>> out;
    for (const std::string &name : model.parameterNames())
        out.emplace_back(name, *model.weights(name));
    return out;
}

bool bitEqual(const Model &a, const Model &b)
{
    const auto pa = allParameters(a), pb = allParameters(b);
    if (pa.size() != pb.size())
        return false;
    for (size_t i = 0; i < pa.size(); ++i)
        if (pa[i].first != pb[i].first || pa[i].second.size() != pb[i].second.size()
            || std::memcmp(pa[i].second.data(), pb[i].second.data(), pa[i].second.size() * sizeof(float)) != 0)
            return false;
    return a.fingerprint() == b.fingerprint();
}

/** Cancels at the first sign of work. */
class CancelAtOnce : public Progress
{
public:
    bool advance(double, const std::string &) override
    {
        cancel();
        return false;
    }
    bool lockStep(const LockStep &) override
    {
        cancel();
        return false;
    }
};

struct Fixture
{
    Model model;
    Model other;
    Dataset train;
};

/** A LeNet-5 that has learnt a synthetic ten-class task, so that a lock has accuracy to take away. */
const Fixture &fixture()
{
    static const Fixture f = [] {
        Fixture f;
        f.train = blockImages(400, 7);
        f.model = trainedLeNet(f.train, 1);
        f.other = trainedLeNet(f.train, 2);
        return f;
    }();
    return f;
}

const ProtectionMethod &methodOf(const QString &id)
{
    return *methodById(id.toStdString());
}

Expected<LockResult> lockWithDefaults(const ProtectionMethod &method, Model &model, bool inPlace, Progress &progress)
{
    const Fixture &f = fixture();
    LockRequest request;
    request.seed = 3;
    auto sample = method.drawSample(f.train, request);
    if (!sample)
        return Error{sample.error()};
    return method.lock(model, inPlace, f.train.subset(*sample), request, progress);
}

} // namespace

class TestMethods : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QVERIFY(!methods().empty());
        QVERIFY(evaluate(fixture().model, fixture().train)->accuracy > 0.9);
    }

    void everyMethodIsDeclaredOnce()
    {
        std::set<std::string> ids;
        for (const ProtectionMethod *m : methods()) {
            QVERIFY2(ids.insert(m->id()).second, m->id().c_str());
            QCOMPARE(methodById(m->id()), m);
            std::set<std::string> names;
            for (const ParameterSpec &spec : m->parameters()) {
                QVERIFY2(names.insert(spec.name).second, spec.name.c_str()); // one declaration per parameter
                QVERIFY2(checkParameter(spec, spec.defaultValue).ok(), spec.name.c_str()); // defaults in range
                QVERIFY(!spec.label.empty() && !spec.help.empty());
            }
        }
        QCOMPARE(methodById("no-such-method"), nullptr);
    }

    void lockMethods_data()
    {
        QTest::addColumn<QString>("method");
        for (const ProtectionMethod *m : methods())
            if (m->can(Capability::Lock))
                QTest::newRow(m->id().c_str()) << QString::fromStdString(m->id());
    }

    void lockMethods()
    {
        QFETCH(QString, method);
        const ProtectionMethod &m = methodOf(method);
        const Fixture &f = fixture();
        const std::string original = f.model.fingerprint();
        Model input = f.model;
        Progress quiet;
        auto lock = lockWithDefaults(m, input, false, quiet);
        QVERIFY2(lock.ok(), lock.ok() ? "" : lock.error().c_str());
        QCOMPARE(f.model.fingerprint(), original); // a copy was locked
        QVERIFY(lock->locked.fingerprint() != original);
        QCOMPARE(lock->key.method, m.id());
        QCOMPARE(lock->key.originalFingerprint, original);
        QCOMPARE(lock->key.lockedFingerprint, lock->locked.fingerprint());
        QVERIFY(lock->encryptedCount() > 0);

        // Protect then restore is bit-exact.
        auto restored = unlockModel(lock->locked, lock->key);
        QVERIFY2(restored.ok(), restored.ok() ? "" : restored.error().c_str());
        QVERIFY(bitEqual(*restored, f.model));
        Model inPlace = lock->locked.clone();
        QVERIFY(unlockInPlace(inPlace, lock->key).ok());
        QVERIFY(bitEqual(inPlace, f.model));

        // The key round-trips through a file, plain and sealed, and still restores the model.
        QTemporaryDir dir;
        const std::string plainPath = dir.filePath(QStringLiteral("plain.json")).toStdString();
        QVERIFY(lock->key.save(plainPath).ok());
        auto plain = SecretKey::load(plainPath);
        QVERIFY2(plain.ok(), plain.ok() ? "" : plain.error().c_str());
        QCOMPARE(plain->checksum(), lock->key.checksum());
        QVERIFY(checkKeyMethod(*plain).ok());
        QVERIFY(bitEqual(*unlockModel(lock->locked, *plain), f.model));
        auto sealed = sealKey(lock->key, "method suite", "tester", KdfStrength{1, 8192});
        QVERIFY(sealed.ok());
        const std::string sealedPath = dir.filePath(QStringLiteral("sealed.json")).toStdString();
        QVERIFY(writeFileAtomically(sealedPath, *sealed).ok());
        QCOMPARE(openKeyFile(sealedPath, "wrong").error, KeyError::WrongPassword);
        const OpenedKey opened = openKeyFile(sealedPath, "method suite");
        QVERIFY2(opened.ok(), opened.message.c_str());
        QCOMPARE(opened.info.method, m.id());
        QCOMPARE(opened.key.checksum(), lock->key.checksum());
        QVERIFY(bitEqual(*unlockModel(lock->locked, opened.key), f.model));

        // A key on another model is refused, and so is a model that already is the original.
        const KeyFit foreign = checkKey(f.other, lock->key);
        QCOMPARE(foreign.state, KeyFit::State::OtherModel);
        QVERIFY(!unlockModel(f.other, lock->key).ok());
        const KeyFit restoredFit = checkKey(*restored, lock->key);
        QCOMPARE(restoredFit.state, KeyFit::State::AlreadyUnlocked);
        auto again = unlockModel(*restored, lock->key);
        QVERIFY(!again.ok());
        QVERIFY2(QString::fromStdString(again.error()).contains(QLatin1String("not locked")), again.error().c_str());
    }

    void workflowNamesItsThreeParts_data() { lockMethods_data(); }

    void workflowNamesItsThreeParts()
    {
        // Evaluating the original, locking, evaluating the locked model: each part has its own bar from 0 to 100%
        // and says which of the three it is; the lock's steps reach the caller (the GUI's live chart).
        class Recorder : public Progress
        {
        public:
            std::vector<std::pair<double, std::string>> reports;
            int steps = 0;
            bool advance(double fraction, const std::string &label) override
            {
                reports.emplace_back(fraction, label);
                return true;
            }
            bool lockStep(const LockStep &) override { return ++steps > 0; }
        };
        QFETCH(QString, method);
        const Fixture &f = fixture();
        Model input = f.model;
        Recorder progress;
        LockRequest request;
        request.seed = 3;
        WorkflowOptions options;
        options.evalLimit = 100;
        auto outcome = runLockWorkflow(input, f.train, f.train, methodOf(method), request, options, progress);
        QVERIFY2(outcome.ok(), outcome.ok() ? "" : outcome.error().c_str());
        // As many steps as the method reports when it locks alone (the same draw, the same request).
        Model again = f.model;
        Recorder alone;
        auto sample = methodOf(method).drawSample(f.train, request);
        QVERIFY(sample.ok());
        QVERIFY(methodOf(method).lock(again, false, f.train.subset(*sample), request, alone).ok());
        QCOMPARE(progress.steps, alone.steps);
        const std::vector<std::string> parts = {
            "1 of 3, the original: ", "2 of 3, locking", "3 of 3, the locked model: "};
        size_t part = 0;
        std::vector<int> seen(parts.size(), 0);
        for (const auto &[fraction, label] : progress.reports) {
            while (part < parts.size() && label.rfind(parts[part], 0) != 0)
                ++part; // parts come in order and never return
            QVERIFY2(part < parts.size(), label.c_str());
            QVERIFY(fraction >= 0.0 && fraction <= 1.0);
            ++seen[part];
        }
        for (size_t k = 0; k < parts.size(); ++k)
            QVERIFY2(seen[k] > 0, parts[k].c_str());
        QCOMPARE(progress.reports.back().first, 1.0); // the last evaluation's bar ends full
    }

    void cancelLeavesTheInputUntouched_data() { lockMethods_data(); }

    void cancelLeavesTheInputUntouched()
    {
        QFETCH(QString, method);
        const ProtectionMethod &m = methodOf(method);
        const Fixture &f = fixture();
        const std::string original = f.model.fingerprint();
        for (const bool inPlace : {false, true}) {
            Model input = f.model.clone();
            CancelAtOnce cancel;
            auto lock = lockWithDefaults(m, input, inPlace, cancel);
            QVERIFY(!lock.ok());
            QVERIFY2(QString::fromStdString(lock.error()).contains(QLatin1String("cancelled")), lock.error().c_str());
            QCOMPARE(input.fingerprint(), original);
            QVERIFY(bitEqual(input, f.model));
        }
    }
};

QTEST_GUILESS_MAIN(TestMethods)
#include "tst_methods.moc"
