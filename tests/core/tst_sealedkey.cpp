// Password-protected keys: Argon2id + XChaCha20-Poly1305 through libsodium.
#include "sealedkey.h"
#include "testkeys.h"

#include <QtTest>

#include <nlohmann/json.hpp>

using namespace paramlock;
using nlohmann::json;

namespace {
// The cheapest strength libsodium allows keeps the tests fast; the format is the same.
const KdfStrength kFast{1, 8192};

std::string sealed(const std::string &password = "correct horse", const std::string &recipient = "alice")
{
    auto text = sealKey(sampleKey(), password, recipient, kFast);
    return text ? *text : std::string();
}

/** Edits a sealed file the way an attacker would, then fixes the plain checksum so that only the crypto can tell. */
std::string edited(const std::string &text, const std::function<void(json &)> &edit)
{
    json j = json::parse(text);
    edit(j);
    json copy = j;
    copy.erase("file_sha256");
    QCryptographicHash hash(QCryptographicHash::Sha256);
    const std::string dumped = copy.dump();
    hash.addData(QByteArrayView(dumped.data(), qsizetype(dumped.size())));
    j["file_sha256"] = hash.result().toHex().toStdString();
    return j.dump(1);
}
} // namespace

class TestSealedKey : public QObject
{
    Q_OBJECT

private slots:
    void roundTripRestoresTheExactKey()
    {
        const std::string text = sealed();
        QVERIFY(!text.empty());
        QVERIFY(isSealedKey(text));
        const OpenedKey opened = openKey(text, "correct horse");
        QVERIFY2(opened.ok(), opened.message.c_str());
        QCOMPARE(opened.key.toJson(), sampleKey().toJson());
        QCOMPARE(opened.info.recipient, std::string("alice"));
        // Nothing secret is readable without the password: no perturbation, no index, no layer name.
        QVERIFY(text.find("conv1.weight") == std::string::npos);
        QVERIFY(text.find("\"entries\": [") == std::string::npos);
    }

    void twoSealsOfOneKeyDiffer()
    {
        // Fresh salt and nonce each time: two licensees with the same password get unrelated files.
        const std::string a = sealed("same"), b = sealed("same");
        QVERIFY(json::parse(a).at("ciphertext") != json::parse(b).at("ciphertext"));
        QVERIFY(json::parse(a).at("header").at("key_id") != json::parse(b).at("header").at("key_id"));
        QVERIFY(openKey(a, "same").ok() && openKey(b, "same").ok());
    }

    void inspectNeedsNoPassword()
    {
        auto info = inspectKey(sealed());
        QVERIFY(info.ok());
        QVERIFY(info->sealed);
        QCOMPARE(info->recipient, std::string("alice"));
        QCOMPARE(info->entryCount, int64_t(3));
        QCOMPARE(info->lockedFingerprint, std::string(64, 'b'));
        QCOMPARE(info->kdf, std::string("argon2id13, 1 passes, 8 KiB"));
        auto plain = inspectKey(sampleKey().toJson());
        QVERIFY(plain.ok());
        QVERIFY(!plain->sealed);
        QCOMPARE(plain->entryCount, int64_t(3));
    }

    void wrongPasswordAndTamperingAreToldApart()
    {
        const std::string text = sealed();
        QCOMPARE(openKey(text, "").error, KeyError::NeedsPassword);
        QCOMPARE(openKey(text, "Correct horse").error, KeyError::WrongPassword);

        const std::string flipped = edited(text, [](json &j) {
            std::string c = j["ciphertext"];
            c[10] = c[10] == 'A' ? 'B' : 'A';
            j["ciphertext"] = c;
        });
        const OpenedKey tampered = openKey(flipped, "correct horse");
        QCOMPARE(tampered.error, KeyError::Tampered);
        QVERIFY2(tampered.message.find("tampered") != std::string::npos, tampered.message.c_str());

        // The readable header is authenticated too: renaming the recipient breaks the seal.
        const std::string renamed = edited(text, [](json &j) { j["header"]["recipient"] = "mallory"; });
        QCOMPARE(openKey(renamed, "correct horse").error, KeyError::Tampered);
    }

    void damageIsFoundBeforeAnyPassword()
    {
        std::string text = sealed();
        const size_t at = text.find("\"ciphertext\": \"") + 20;
        text[at] = text[at] == 'x' ? 'y' : 'x'; // one byte changed, checksum not fixed
        const OpenedKey opened = openKey(text, "correct horse");
        QCOMPARE(opened.error, KeyError::Corrupt);
        QVERIFY2(opened.message.find("damaged or was edited") != std::string::npos, opened.message.c_str());
        QCOMPARE(openKey(text.substr(0, text.size() / 2), "correct horse").error, KeyError::NotAKey);
    }

    void refusesHostileKdfSettings()
    {
        // A crafted file must not make the reader allocate terabytes or spin for hours.
        const std::string greedy = edited(sealed(), [](json &j) { j["kdf"]["memlimit"] = uint64_t(1) << 42; });
        const OpenedKey opened = openKey(greedy, "correct horse");
        QCOMPARE(opened.error, KeyError::Corrupt);
        QVERIFY2(opened.message.find("outside the safe range") != std::string::npos, opened.message.c_str());
    }

    void refusesEmptyPasswordsAndUnknownStrengths()
    {
        QVERIFY(!sealKey(sampleKey(), "", "bob", kFast).ok());
        QVERIFY(!KdfStrength::named("extreme").ok());
        QCOMPARE(KdfStrength::named("interactive")->memLimit, KdfStrength::interactive().memLimit);
    }

    void plainKeysStillOpen()
    {
        const OpenedKey opened = openKey(sampleKey().toJson(), "ignored");
        QVERIFY(opened.ok());
        QVERIFY(!opened.info.sealed);
        QCOMPARE(openKey("{\"format\": \"something-else\"}").error, KeyError::NotAKey);
        const OpenedKey junk = openKey("\x89PNG garbage");
        QCOMPARE(junk.error, KeyError::NotAKey);
    }

    void wipeClearsTheBuffer()
    {
        std::string secret = "hunter2";
        wipe(secret);
        QVERIFY(secret.empty());
    }
};

QTEST_GUILESS_MAIN(TestSealedKey)
#include "tst_sealedkey.moc"
