#include "secretkey.h"

#include "atomicfile.h"
#include "jsonfields.h"

#include <nlohmann/json.hpp>

#include <climits>
#include <cstring>

namespace paramlock {

using nlohmann::json;
using namespace jsonfields;

namespace {

/** The envelope without its checksum: what the checksum covers. */
json envelope(const SecretKey &key)
{
    json payload = json::parse(key.payload.empty() ? std::string("{}") : key.payload);
    return json{{"format", SecretKey::kFormat}, {"version", SecretKey::kVersion}, {"method", key.method},
        {"mode", key.mode},
        {"model",
            {{"fingerprint_original", key.originalFingerprint}, {"fingerprint_locked", key.lockedFingerprint},
                {"n_params", key.parameterCount}}},
        {"secret_count", key.secretCount}, {"created_at", key.createdAt}, {"created_by", key.createdBy},
        {"payload", std::move(payload)}};
}

std::string checksumOf(const json &envelopeWithoutChecksum)
{
    return sha256Hex(envelopeWithoutChecksum.dump());
}

void readModelBlock(const json &j, SecretKey &key)
{
    const json &m = j.at("model");
    key.originalFingerprint = m.at("fingerprint_original").get<std::string>();
    key.lockedFingerprint = m.at("fingerprint_locked").get<std::string>();
    key.parameterCount = whole(m.at("n_params"), "n_params", 0, INT64_MAX);
}

/**
 * A version-1 key: AdvParams' format before the envelope. Its checksum covered the entries (layer, index and the
 * perturbation's bits) and both fingerprints; its settings and entries become the payload, marked version 1.
 */
Expected<SecretKey> fromVersion1(const json &j)
{
    SecretKey key;
    key.fileVersion = 1;
    key.method = j.at("method").get<std::string>();
    key.createdAt = j.value("created_at", std::string());
    key.createdBy = j.value("created_by", std::string());
    readModelBlock(j, key);
    const json &settings = j.at("settings");
    key.mode = settings.at("mode").get<std::string>();
    const json &entries = j.at("entries");
    if (!entries.is_array())
        return Error{"key file is malformed: its entries are not a list"};
    std::string canonical;
    for (const json &e : entries) {
        const double perturbation = e.at("perturbation").get<double>();
        uint64_t bits = 0;
        static_assert(sizeof(bits) == sizeof(perturbation));
        std::memcpy(&bits, &perturbation, sizeof(bits));
        canonical += e.at("layer").get<std::string>() + '\n'
            + std::to_string(whole(e.at("index"), "an entry's index", INT64_MIN, INT64_MAX)) + '\n'
            + std::to_string(bits) + '\n';
    }
    canonical += key.originalFingerprint + '\n' + key.lockedFingerprint + '\n';
    if (j.at("entries_sha256").get<std::string>() != sha256Hex(canonical))
        return Error{"key file was modified or is corrupt: its entries do not match their checksum"};
    key.secretCount = int64_t(entries.size());
    key.payload = json{{"version", 1}, {"settings", settings}, {"entries", entries}}.dump();
    return key;
}

} // namespace

std::string SecretKey::checksum() const
{
    return checksumOf(envelope(*this));
}

std::string SecretKey::toJson() const
{
    json j = envelope(*this);
    j["sha256"] = checksumOf(j);
    return j.dump(1) + "\n";
}

Expected<SecretKey> SecretKey::fromJson(const std::string &text)
{
    json j;
    try {
        j = json::parse(text);
    } catch (const json::parse_error &e) {
        return Error{std::string("key file is not valid JSON (") + e.what() + ")"};
    }
    if (!j.is_object() || stringOr(j, "format") != kFormat)
        return Error{"not a ParamLock key file (the \"format\" field is not \"paramlock-key\")"};
    try {
        const int64_t version = whole(j.at("version"), "version", INT32_MIN, INT32_MAX);
        if (version > kVersion)
            return Error{"key file version " + std::to_string(version) + " is newer than this ParamLock understands ("
                + std::to_string(kVersion) + "); update ParamLock"};
        if (version < 1)
            return Error{"key file version " + std::to_string(version) + " is invalid"};
        if (version == 1)
            return fromVersion1(j);
        SecretKey key;
        key.method = j.at("method").get<std::string>();
        key.mode = j.at("mode").get<std::string>();
        readModelBlock(j, key);
        key.secretCount = whole(j.at("secret_count"), "secret_count", 0, INT64_MAX);
        key.createdAt = j.at("created_at").get<std::string>();
        key.createdBy = j.at("created_by").get<std::string>();
        const json &payload = j.at("payload");
        if (!payload.is_object())
            return Error{"key file is malformed: its payload is not an object"};
        key.payload = payload.dump();
        json unsigned_ = j;
        unsigned_.erase("sha256");
        if (j.at("sha256").get<std::string>() != checksumOf(unsigned_))
            return Error{"key file was modified or is corrupt: its contents do not match their checksum"};
        // Only the fields the envelope defines are covered by its checksum as written by toJson().
        if (unsigned_ != envelope(key))
            return Error{"key file has fields this ParamLock does not know; it was not written by ParamLock"};
        return key;
    } catch (const json::exception &e) {
        return Error{std::string("key file is incomplete or malformed: ") + e.what()};
    } catch (const Failure &e) {
        return Error{std::string("key file is malformed: ") + e.what()};
    }
}

Expected<SecretKey> SecretKey::load(const std::string &path)
{
    auto text = readWholeFile(path);
    if (!text)
        return Error{text.error()};
    auto key = fromJson(*text);
    if (!key)
        return Error{path + ": " + key.error()};
    return key;
}

Expected<void> SecretKey::save(const std::string &path, const std::vector<std::string> &protectedPaths) const
{
    return writeFileAtomically(path, toJson(), protectedPaths);
}

} // namespace paramlock
