#include "atomicfile.h"
#include "secretkey.h"
#include "testkeys.h"

#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

using namespace paramlock;

class TestSecretKey : public QObject
{
    Q_OBJECT

private slots:
    void roundTripIsExact()
    {
        const SecretKey k = sampleKey();
        auto back = SecretKey::fromJson(k.toJson());
        QVERIFY2(back.ok(), back.ok() ? "" : back.error().c_str());
        QCOMPARE(back->entries.size(), size_t(3));
        for (size_t i = 0; i < 3; ++i) {
            QCOMPARE(back->entries[i].layer, k.entries[i].layer);
            QCOMPARE(back->entries[i].index, k.entries[i].index);
            QVERIFY(back->entries[i].perturbation == k.entries[i].perturbation); // bit-exact, not fuzzy
        }
        QCOMPARE(back->settings.layers, k.settings.layers);
        QCOMPARE(back->settings.seed, uint64_t(42));
        QCOMPARE(back->settings.chunkSize, k.settings.chunkSize);
        QCOMPARE(back->originalFingerprint, k.originalFingerprint);
        QCOMPARE(back->parameterCount, int64_t(61706));
        QCOMPARE(back->toJson(), k.toJson());
        // Keys written before the chunk size was recorded still read, with "not recorded".
        std::string old = k.toJson();
        const auto at = old.find("\"chunk_size\"");
        QVERIFY(at != std::string::npos);
        old.erase(at, old.find(',', at) + 1 - at);
        auto older = SecretKey::fromJson(old);
        QVERIFY2(older.ok(), older.ok() ? "" : older.error().c_str());
        QCOMPARE(older->settings.chunkSize, 0);
        // And those written before the strong mode's lookahead were made without it.
        QVERIFY(back->settings.lookahead);
        const auto la = old.find("\"lookahead\"");
        QVERIFY(la != std::string::npos);
        old.erase(la, old.find(',', la) + 1 - la);
        QVERIFY(!SecretKey::fromJson(old)->settings.lookahead);
    }

    void fileRoundTripAndNoOverwriteOfInputs()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath(QStringLiteral("key.json")).toStdString();
        QVERIFY(sampleKey().save(path).ok());
        auto loaded = SecretKey::load(path);
        QVERIFY(loaded.ok());
        QCOMPARE(loaded->entries.size(), size_t(3));

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
        if (edit == QLatin1String("garbage"))
            text = "this is not a key";
        else if (edit == QLatin1String("truncate"))
            text = text.substr(0, text.size() / 2);
        else {
            if (edit == QLatin1String("format"))
                j["format"] = "something-else";
            else if (edit == QLatin1String("version"))
                j["version"] = 99;
            else if (edit == QLatin1String("perturbation"))
                j["entries"][0]["perturbation"] = 0.25;
            else if (edit == QLatin1String("index"))
                j["entries"][1]["index"] = 1;
            else if (edit == QLatin1String("fingerprint"))
                j["model"]["fingerprint_original"] = std::string(64, 'c');
            else if (edit == QLatin1String("drop-entries"))
                j.erase("entries");
            else if (edit == QLatin1String("duplicate"))
                j["entries"].push_back(j["entries"][0]);
            else if (edit == QLatin1String("method"))
                j["method"] = "nnsplitter";
            else if (edit == QLatin1String("float-iterations"))
                j["settings"]["max_iter"] = 4.4e97;
            else if (edit == QLatin1String("negative-seed"))
                j["settings"]["seed"] = -1;
            else if (edit == QLatin1String("numeric-format"))
                j["format"] = 7;
            text = j.dump();
        }
        auto key = SecretKey::fromJson(text);
        QVERIFY(!key.ok());
        QVERIFY2(QString::fromStdString(key.error()).contains(expected), key.error().c_str());
    }
};

QTEST_GUILESS_MAIN(TestSecretKey)
#include "tst_secretkey.moc"
