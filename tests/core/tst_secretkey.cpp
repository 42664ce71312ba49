#include "atomicfile.h"
#include "sealedkey.h"
#include "secretkey.h"
#include "testkeys.h"
#include "unlock.h"

#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <cstring>

using namespace paramlock;

namespace {

/** A key's text as every reader takes it: the envelope, then the method's payload. */
Expected<AdvParamsKey> readKey(const std::string &text)
{
    auto key = SecretKey::fromJson(text);
    if (!key)
        return Error{key.error()};
    if (auto ok = checkKeyMethod(*key); !ok)
        return Error{ok.error()};
    return AdvParamsKey::of(*key);
}

/** An edited key with its checksum recomputed, as a careless tool would write it. */
std::string withChecksum(nlohmann::json j)
{
    j.erase("sha256");
    j["sha256"] = sha256Hex(j.dump());
    return j.dump();
}

QString fixture(const char *name)
{
    return qEnvironmentVariable("PARAMLOCK_TESTS") + QStringLiteral("/fixtures/v1-keys/") + QLatin1String(name);
}

bool sameParameters(const Model &a, const Model &b)
{
    if (a.parameterNames() != b.parameterNames())
        return false;
    for (const std::string &name : a.parameterNames()) {
        const auto x = *a.weights(name), y = *b.weights(name);
        if (x.size() != y.size() || std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) != 0)
            return false;
    }
    return true;
}

} // namespace

class TestSecretKey : public QObject
{
    Q_OBJECT

private slots:
    void roundTripIsExact()
    {
        const SecretKey k = sampleKey();
        const AdvParamsKey mine = sampleSecret();
        auto back = SecretKey::fromJson(k.toJson());
        QVERIFY2(back.ok(), back.ok() ? "" : back.error().c_str());
        auto secret = AdvParamsKey::of(*back);
        QVERIFY2(secret.ok(), secret.ok() ? "" : secret.error().c_str());
        QCOMPARE(secret->entries.size(), size_t(3));
        for (size_t i = 0; i < 3; ++i) {
            QCOMPARE(secret->entries[i].layer, mine.entries[i].layer);
            QCOMPARE(secret->entries[i].index, mine.entries[i].index);
            QVERIFY(secret->entries[i].perturbation == mine.entries[i].perturbation); // bit-exact, not fuzzy
        }
        QCOMPARE(secret->settings.layers, mine.settings.layers);
        QCOMPARE(secret->settings.seed, uint64_t(42));
        QCOMPARE(secret->settings.chunkSize, mine.settings.chunkSize);
        QCOMPARE(back->originalFingerprint, k.originalFingerprint);
        QCOMPARE(back->parameterCount, int64_t(61706));
        QCOMPARE(back->toJson(), k.toJson());
        // Keys written before the chunk size was recorded (version 1) still read, with "not recorded".
        auto v1 = readWholeFile(fixture("v1-plain.json").toStdString());
        QVERIFY(v1.ok());
        std::string old = *v1;
        auto current = readKey(old);
        QVERIFY2(current.ok(), current.ok() ? "" : current.error().c_str());
        QCOMPARE(current->settings.chunkSize, 50);
        const auto at = old.find("\"chunk_size\"");
        QVERIFY(at != std::string::npos);
        old.erase(at, old.find(',', at) + 1 - at);
        auto older = readKey(old);
        QVERIFY2(older.ok(), older.ok() ? "" : older.error().c_str());
        QCOMPARE(older->settings.chunkSize, 0);
        // And those written before the strong mode's lookahead were made without it.
        QVERIFY(current->settings.lookahead);
        const auto la = old.find("\"lookahead\"");
        QVERIFY(la != std::string::npos);
        old.erase(la, old.find(',', la) + 1 - la);
        QVERIFY(!readKey(old)->settings.lookahead);
        // Keys of both versions made before the lookahead sample measured on the whole set.
        QCOMPARE(current->settings.searchSample, int64_t(0));
        QCOMPARE(secret->settings.searchSample, mine.settings.searchSample);
        SecretKey before = k;
        auto payload = nlohmann::json::parse(before.payload);
        QVERIFY(payload.at("settings").contains("search_sample"));
        payload["settings"].erase("search_sample");
        before.payload = payload.dump();
        QCOMPARE(AdvParamsKey::of(before)->settings.searchSample, int64_t(0));
    }

    void fileRoundTripAndNoOverwriteOfInputs()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath(QStringLiteral("key.json")).toStdString();
        QVERIFY(sampleKey().save(path).ok());
        auto loaded = SecretKey::load(path);
        QVERIFY(loaded.ok());
        QCOMPARE(AdvParamsKey::of(*loaded)->entries.size(), size_t(3));

        const std::string input = dir.filePath(QStringLiteral("model.pt")).toStdString();
        QVERIFY(writeFileAtomically(input, "original bytes").ok());
        auto refused = sampleKey().save(input, {input});
        QVERIFY(!refused.ok());
        QVERIFY(QString::fromStdString(refused.error()).contains(QLatin1String("refusing to overwrite")));
        QCOMPARE(*readWholeFile(input), std::string("original bytes"));
        // The same file reached through another spelling is still the input.
        const std::string other = dir.filePath(QStringLiteral("./sub/../model.pt")).toStdString();
        QVERIFY(QDir(dir.path()).mkdir(QStringLiteral("sub")));
        QVERIFY(!sampleKey().save(other, {input}).ok());
    }

    void versionOneKeysUnlockTheirModels()
    {
        // Made by ParamLock 0.1.0 (the format before the envelope): a plain paper-mode key and a sealed strong-mode
        // key of the same small model, with the locked models they restore.
        auto original = Model::load(fixture("linear-original.pt").toStdString());
        QVERIFY2(original.ok(), original.ok() ? "" : original.error().c_str());
        auto plain = SecretKey::load(fixture("v1-plain.json").toStdString());
        QVERIFY2(plain.ok(), plain.ok() ? "" : plain.error().c_str());
        QCOMPARE(plain->fileVersion, 1);
        QCOMPARE(plain->mode, std::string("paper"));
        auto lockedPaper = Model::load(fixture("linear-locked.pt").toStdString());
        QVERIFY(lockedPaper.ok());
        QVERIFY(checkKey(*lockedPaper, *plain).fits());
        auto restored = unlockModel(*lockedPaper, *plain);
        QVERIFY2(restored.ok(), restored.ok() ? "" : restored.error().c_str());
        QVERIFY(sameParameters(*restored, *original));
        QCOMPARE(restored->fingerprint(), original->fingerprint());

        const OpenedKey sealed = openKeyFile(fixture("v1-sealed.json").toStdString(), "fixture password");
        QVERIFY2(sealed.ok(), sealed.message.c_str());
        QCOMPARE(sealed.info.recipient, std::string("v1 fixture"));
        QCOMPARE(sealed.key.mode, std::string("strong"));
        auto lockedStrong = Model::load(fixture("linear-locked-strong.pt").toStdString());
        QVERIFY(lockedStrong.ok());
        Model inPlace = *lockedStrong;
        QVERIFY(unlockInPlace(inPlace, sealed.key).ok());
        QVERIFY(sameParameters(inPlace, *original));

        // Saved again, a version-1 key becomes a version-2 key that still unlocks.
        auto upgraded = SecretKey::fromJson(plain->toJson());
        QVERIFY(upgraded.ok());
        QCOMPARE(upgraded->fileVersion, SecretKey::kVersion);
        QVERIFY(sameParameters(*unlockModel(*lockedPaper, *upgraded), *original));
    }

    void refusesBadKeys_data()
    {
        QTest::addColumn<QString>("edit");
        QTest::addColumn<QString>("expected");
        QTest::newRow("not json") << "garbage"
                                  << "not valid JSON";
        QTest::newRow("other format") << "format"
                                      << "not a ParamLock key";
        QTest::newRow("newer version") << "version"
                                       << "newer than this ParamLock";
        QTest::newRow("edited perturbation") << "perturbation"
                                             << "do not match their checksum";
        QTest::newRow("edited index") << "index"
                                      << "do not match their checksum";
        QTest::newRow("edited fingerprint") << "fingerprint"
                                            << "do not match their checksum";
        QTest::newRow("missing entries") << "drop-entries"
                                         << "incomplete or malformed";
        QTest::newRow("duplicate entry") << "duplicate"
                                         << "twice";
        QTest::newRow("unknown method") << "method"
                                        << "cannot unlock";
        QTest::newRow("truncated") << "truncate"
                                   << "not valid JSON";
        // Found by fuzzing: numbers of the wrong kind used to be cast with undefined behaviour.
        QTest::newRow("float as an integer") << "float-iterations"
                                             << "max_iter must be a whole number";
        QTest::newRow("negative seed") << "negative-seed"
                                       << "seed must be a non-negative whole number";
        QTest::newRow("numeric format") << "numeric-format"
                                        << "not a ParamLock key";
    }

    void refusesBadKeys()
    {
        QFETCH(QString, edit);
        QFETCH(QString, expected);
        std::string text = sampleKey().toJson();
        auto j = nlohmann::json::parse(text);
        auto &payload = j["payload"];
        if (edit == QLatin1String("garbage"))
            text = "this is not a key";
        else if (edit == QLatin1String("truncate"))
            text = text.substr(0, text.size() / 2);
        else if (edit == QLatin1String("format")) {
            j["format"] = "something-else";
            text = j.dump();
        } else if (edit == QLatin1String("version")) {
            j["version"] = 99;
            text = j.dump();
        } else if (edit == QLatin1String("numeric-format")) {
            j["format"] = 7;
            text = j.dump();
        } else if (edit == QLatin1String("perturbation") || edit == QLatin1String("index")
            || edit == QLatin1String("fingerprint")) {
            if (edit == QLatin1String("perturbation"))
                payload["entries"][0]["perturbation"] = 0.25;
            else if (edit == QLatin1String("index"))
                payload["entries"][1]["index"] = 1;
            else
                j["model"]["fingerprint_original"] = std::string(64, 'c');
            text = j.dump(); // the checksum is left as it was
        } else {
            // Edits with a valid checksum: what the envelope cannot catch, the method's payload check does.
            if (edit == QLatin1String("drop-entries"))
                payload.erase("entries");
            else if (edit == QLatin1String("duplicate"))
                payload["entries"].push_back(payload["entries"][0]);
            else if (edit == QLatin1String("method"))
                j["method"] = "no-such-method"; // (was "nnsplitter", unknown until it arrived)
            else if (edit == QLatin1String("float-iterations"))
                payload["settings"]["max_iter"] = 4.4e97;
            else if (edit == QLatin1String("negative-seed"))
                payload["seed"] = -1;
            text = withChecksum(j);
        }
        auto key = readKey(text);
        QVERIFY(!key.ok());
        QVERIFY2(QString::fromStdString(key.error()).contains(expected), key.error().c_str());
    }
};

QTEST_GUILESS_MAIN(TestSecretKey)
#include "tst_secretkey.moc"
