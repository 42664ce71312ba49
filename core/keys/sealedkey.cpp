#include "sealedkey.h"

#include "atomicfile.h"
#include "jsonfields.h"

#include <nlohmann/json.hpp>
#include <sodium.h>

#include <QDateTime>

#include <array>
#include <climits>

namespace paramlock {

using nlohmann::json;
using namespace jsonfields;

namespace {

constexpr const char *kSealedFormat = "paramlock-sealed-key";
constexpr int kSealedVersion = 1;
constexpr const char *kKdfName = "argon2id13";
constexpr const char *kCipherName = "xchacha20poly1305-ietf";
// The derived bytes: the encryption key, then a subkey whose hash tells a wrong password from a tampered file.
constexpr size_t kDerivedBytes = crypto_aead_xchacha20poly1305_ietf_KEYBYTES + 32;
// Refuse KDF settings a crafted file could use to exhaust memory or time.
constexpr uint64_t kMaxMemLimit = uint64_t(4) << 30;
constexpr uint64_t kMaxOpsLimit = 64;

bool sodiumReady()
{
    static const bool ready = sodium_init() >= 0;
    return ready;
}

std::string toBase64(const unsigned char *data, size_t size)
{
    std::string out(sodium_base64_encoded_len(size, sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_ORIGINAL);
    out.resize(out.size() - 1); // the terminating NUL
    return out;
}

std::string toBase64(const std::string &bytes)
{
    return toBase64(reinterpret_cast<const unsigned char *>(bytes.data()), bytes.size());
}

bool fromBase64(const std::string &text, std::string &out)
{
    out.assign(text.size(), '\0');
    size_t length = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char *>(out.data()), out.size(), text.data(), text.size(), nullptr,
            &length, nullptr, sodium_base64_VARIANT_ORIGINAL)
        != 0)
        return false;
    out.resize(length);
    return true;
}

std::string mebibytes(uint64_t bytes)
{
    return bytes >= (1u << 20) ? std::to_string(bytes >> 20) + " MiB" : std::to_string(bytes >> 10) + " KiB";
}

std::string randomHex(size_t bytes)
{
    std::string raw(bytes, '\0');
    randombytes_buf(raw.data(), raw.size());
    std::string hex(bytes * 2 + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), reinterpret_cast<const unsigned char *>(raw.data()), raw.size());
    hex.pop_back();
    return hex;
}

/** The authenticated part of a sealed file, in a canonical form (nlohmann sorts object keys). */
std::string associatedData(const json &file)
{
    return json{{"header", file.at("header")}, {"kdf", file.at("kdf")}, {"cipher", file.at("cipher")},
        {"format", file.at("format")}, {"version", file.at("version")}}
        .dump();
}

/** A plain checksum of everything but itself: finds accidental damage before any password is tried. */
std::string fileChecksum(const json &file)
{
    json copy = file;
    copy.erase("file_sha256");
    return sha256Hex(copy.dump());
}

struct DerivedKey
{
    std::array<unsigned char, kDerivedBytes> bytes{};
    ~DerivedKey() { sodium_memzero(bytes.data(), bytes.size()); }
    const unsigned char *encryptionKey() const { return bytes.data(); }
    std::string passwordCheck() const
    {
        std::array<unsigned char, 32> hash{};
        crypto_generichash(
            hash.data(), hash.size(), bytes.data() + crypto_aead_xchacha20poly1305_ietf_KEYBYTES, 32, nullptr, 0);
        return toBase64(hash.data(), hash.size());
    }
};

bool derive(DerivedKey &out, const std::string &password, const std::string &salt, uint64_t ops, uint64_t mem)
{
    return crypto_pwhash(out.bytes.data(), out.bytes.size(), password.data(), password.size(),
               reinterpret_cast<const unsigned char *>(salt.data()), ops, size_t(mem), crypto_pwhash_ALG_ARGON2ID13)
        == 0;
}

json headerOf(const SecretKey &key, const std::string &recipient)
{
    return json{{"recipient", recipient}, {"key_id", randomHex(8)},
        {"issued_at", QDateTime::currentDateTimeUtc().toString(Qt::ISODate).toStdString()}, {"method", key.method},
        {"mode", key.mode},
        {"model",
            {{"fingerprint_original", key.originalFingerprint}, {"fingerprint_locked", key.lockedFingerprint},
                {"n_params", key.parameterCount}}},
        {"entries", key.secretCount}, {"created_at", key.createdAt}, {"created_by", key.createdBy}};
}

OpenedKey failed(KeyError error, std::string message)
{
    OpenedKey opened;
    opened.error = error;
    opened.message = std::move(message);
    return opened;
}

KeyFileInfo infoOfPlain(const SecretKey &key)
{
    KeyFileInfo info;
    info.method = key.method;
    info.mode = key.mode;
    info.originalFingerprint = key.originalFingerprint;
    info.lockedFingerprint = key.lockedFingerprint;
    info.parameterCount = key.parameterCount;
    info.entryCount = key.secretCount;
    info.createdAt = key.createdAt;
    info.createdBy = key.createdBy;
    return info;
}

Expected<KeyFileInfo> infoOfSealed(const json &file)
{
    try {
        if (whole(file.at("version"), "version", 1, INT32_MAX) > kSealedVersion)
            return Error{"the sealed key's version is newer than this ParamLock understands; update ParamLock"};
        const json &h = file.at("header");
        const json &kdf = file.at("kdf");
        KeyFileInfo info;
        info.sealed = true;
        info.recipient = h.at("recipient").get<std::string>();
        info.keyId = h.at("key_id").get<std::string>();
        info.issuedAt = h.value("issued_at", std::string());
        info.method = h.at("method").get<std::string>();
        info.mode = h.at("mode").get<std::string>();
        info.originalFingerprint = h.at("model").at("fingerprint_original").get<std::string>();
        info.lockedFingerprint = h.at("model").at("fingerprint_locked").get<std::string>();
        info.parameterCount = whole(h.at("model").at("n_params"), "n_params", 0, INT64_MAX);
        info.entryCount = whole(h.at("entries"), "entries", 0, INT64_MAX);
        info.createdAt = h.value("created_at", std::string());
        info.createdBy = h.value("created_by", std::string());
        info.kdf = kdf.at("algorithm").get<std::string>() + ", "
            + std::to_string(unsignedWhole(kdf.at("opslimit"), "opslimit")) + " passes, "
            + mebibytes(unsignedWhole(kdf.at("memlimit"), "memlimit"));
        return info;
    } catch (const json::exception &e) {
        return Error{std::string("sealed key is incomplete or malformed: ") + e.what()};
    } catch (const Failure &e) {
        return Error{std::string("sealed key is malformed: ") + e.what()};
    }
}

} // namespace

Expected<KdfStrength> KdfStrength::named(const std::string &name)
{
    if (name == "interactive")
        return interactive();
    if (name == "moderate")
        return moderate();
    if (name == "sensitive")
        return KdfStrength{crypto_pwhash_OPSLIMIT_SENSITIVE, crypto_pwhash_MEMLIMIT_SENSITIVE};
    return Error{"unknown key-derivation strength \"" + name + "\" (interactive, moderate or sensitive)"};
}

KdfStrength KdfStrength::interactive()
{
    return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

KdfStrength KdfStrength::moderate()
{
    return {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};
}

void wipe(std::string &secret)
{
    if (!secret.empty())
        sodium_memzero(secret.data(), secret.size());
    secret.clear();
}

bool isSealedKey(const std::string &text)
{
    const json j = json::parse(text, nullptr, false);
    return !j.is_discarded() && j.is_object() && stringOr(j, "format") == kSealedFormat;
}

Expected<std::string> sealKey(
    const SecretKey &key, const std::string &password, const std::string &recipient, const KdfStrength &strength)
{
    if (!sodiumReady())
        return Error{"libsodium could not be initialised"};
    if (password.empty())
        return Error{"an empty password does not protect a key; give a password"};
    std::string salt(crypto_pwhash_SALTBYTES, '\0');
    randombytes_buf(salt.data(), salt.size());
    std::string nonce(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, '\0');
    randombytes_buf(nonce.data(), nonce.size());
    DerivedKey derived;
    if (!derive(derived, password, salt, strength.opsLimit, strength.memLimit))
        return Error{"the password could not be stretched: not enough memory for " + mebibytes(strength.memLimit)};

    json file;
    file["format"] = kSealedFormat;
    file["version"] = kSealedVersion;
    file["header"] = headerOf(key, recipient);
    file["kdf"] = {{"algorithm", kKdfName}, {"opslimit", strength.opsLimit}, {"memlimit", strength.memLimit},
        {"salt", toBase64(salt)}};
    file["cipher"] = {{"algorithm", kCipherName}, {"nonce", toBase64(nonce)}};
    file["password_check"] = derived.passwordCheck();

    std::string plain = key.toJson();
    const std::string ad = associatedData(file);
    std::string cipher(plain.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
    unsigned long long cipherLength = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(reinterpret_cast<unsigned char *>(cipher.data()), &cipherLength,
        reinterpret_cast<const unsigned char *>(plain.data()), plain.size(),
        reinterpret_cast<const unsigned char *>(ad.data()), ad.size(), nullptr,
        reinterpret_cast<const unsigned char *>(nonce.data()), derived.encryptionKey());
    wipe(plain);
    cipher.resize(size_t(cipherLength));
    file["ciphertext"] = toBase64(cipher);
    file["file_sha256"] = fileChecksum(file);
    return file.dump(1) + "\n";
}

Expected<KeyFileInfo> inspectKey(const std::string &text)
{
    const json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return Error{"not a ParamLock key file (not valid JSON)"};
    const std::string format = stringOr(j, "format");
    if (format == kSealedFormat)
        return infoOfSealed(j);
    auto key = SecretKey::fromJson(text);
    if (!key)
        return Error{key.error()};
    return infoOfPlain(*key);
}

OpenedKey openKey(const std::string &text, const std::string &password)
{
    const json file = json::parse(text, nullptr, false);
    if (file.is_discarded() || !file.is_object())
        return failed(KeyError::NotAKey, "not a ParamLock key file (not valid JSON; is it truncated?)");
    const std::string format = stringOr(file, "format");
    if (format != kSealedFormat) {
        auto key = SecretKey::fromJson(text);
        if (!key) {
            const bool foreign = format != SecretKey::kFormat;
            return failed(foreign ? KeyError::NotAKey : KeyError::Corrupt, key.error());
        }
        OpenedKey opened;
        opened.key = std::move(*key);
        opened.info = infoOfPlain(opened.key);
        return opened;
    }

    auto info = infoOfSealed(file);
    if (!info)
        return failed(KeyError::Corrupt, info.error());
    if (!sodiumReady())
        return failed(KeyError::Corrupt, "libsodium could not be initialised");
    if (stringOr(file, "file_sha256") != fileChecksum(file))
        return failed(KeyError::Corrupt, "the key file is damaged or was edited (its checksum does not match)");
    std::string salt, nonce, cipher;
    uint64_t ops = 0, mem = 0;
    try {
        const json &kdf = file.at("kdf");
        const json &c = file.at("cipher");
        if (kdf.at("algorithm").get<std::string>() != kKdfName || c.at("algorithm").get<std::string>() != kCipherName)
            return failed(KeyError::Corrupt, "the key is sealed with an algorithm this ParamLock does not know");
        ops = unsignedWhole(kdf.at("opslimit"), "opslimit");
        mem = unsignedWhole(kdf.at("memlimit"), "memlimit");
        if (!fromBase64(kdf.at("salt").get<std::string>(), salt) || salt.size() != crypto_pwhash_SALTBYTES
            || !fromBase64(c.at("nonce").get<std::string>(), nonce)
            || nonce.size() != crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
            || !fromBase64(file.at("ciphertext").get<std::string>(), cipher)
            || cipher.size() < crypto_aead_xchacha20poly1305_ietf_ABYTES)
            return failed(KeyError::Corrupt, "the sealed key's salt, nonce or ciphertext is damaged");
        file.at("password_check").get<std::string>();
    } catch (const json::exception &e) {
        return failed(KeyError::Corrupt, std::string("sealed key is incomplete or malformed: ") + e.what());
    } catch (const Failure &e) {
        return failed(KeyError::Corrupt, std::string("sealed key is malformed: ") + e.what());
    }
    if (ops < crypto_pwhash_OPSLIMIT_MIN || ops > kMaxOpsLimit || mem < crypto_pwhash_MEMLIMIT_MIN
        || mem > kMaxMemLimit)
        return failed(KeyError::Corrupt, "the sealed key asks for key-derivation settings outside the safe range");
    if (password.empty()) {
        OpenedKey opened = failed(KeyError::NeedsPassword,
            "this key is password-protected"
                + (info->recipient.empty() ? std::string() : " (issued to " + info->recipient + ")")
                + "; give its password");
        opened.info = *info;
        return opened;
    }

    DerivedKey derived;
    if (!derive(derived, password, salt, ops, mem))
        return failed(
            KeyError::Corrupt, "the password could not be stretched: not enough memory for " + mebibytes(mem));
    const std::string check = derived.passwordCheck();
    const std::string stored = file.at("password_check").get<std::string>();
    if (check.size() != stored.size() || sodium_memcmp(check.data(), stored.data(), check.size()) != 0) {
        OpenedKey opened = failed(KeyError::WrongPassword, "wrong password for this key");
        opened.info = *info;
        return opened;
    }
    const std::string ad = associatedData(file);
    std::string plain(cipher.size() - crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
    unsigned long long plainLength = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(reinterpret_cast<unsigned char *>(plain.data()), &plainLength,
            nullptr, reinterpret_cast<const unsigned char *>(cipher.data()), cipher.size(),
            reinterpret_cast<const unsigned char *>(ad.data()), ad.size(),
            reinterpret_cast<const unsigned char *>(nonce.data()), derived.encryptionKey())
        != 0) {
        OpenedKey opened = failed(KeyError::Tampered,
            "the key file was tampered with: the password is right but the contents fail authentication");
        opened.info = *info;
        return opened;
    }
    plain.resize(size_t(plainLength));
    auto key = SecretKey::fromJson(plain);
    wipe(plain);
    if (!key)
        return failed(KeyError::Corrupt, key.error());
    if (key->lockedFingerprint != info->lockedFingerprint || key->originalFingerprint != info->originalFingerprint
        || key->method != info->method)
        return failed(KeyError::Tampered, "the key file was tampered with: its header names another model");
    OpenedKey opened;
    opened.key = std::move(*key);
    opened.info = *info;
    return opened;
}

OpenedKey openKeyFile(const std::string &path, const std::string &password)
{
    auto text = readWholeFile(path);
    if (!text)
        return failed(KeyError::NotAKey, text.error());
    OpenedKey opened = openKey(*text, password);
    if (!opened.ok())
        opened.message = path + ": " + opened.message;
    return opened;
}

} // namespace paramlock
