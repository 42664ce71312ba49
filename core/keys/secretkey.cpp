#include "secretkey.h"

#include "atomicfile.h"
#include "jsonfields.h"

#include <nlohmann/json.hpp>

#include <climits>
#include <cstring>
#include <set>

namespace paramlock {

using nlohmann::json;
using namespace jsonfields;

std::string SecretKey::entriesChecksum() const
{
    std::string canonical;
    for (const KeyEntry &e : entries) {
        uint64_t bits = 0;
        static_assert(sizeof(bits) == sizeof(e.perturbation));
        std::memcpy(&bits, &e.perturbation, sizeof(bits));
        canonical += e.layer + '\n' + std::to_string(e.index) + '\n' + std::to_string(bits) + '\n';
    }
    canonical += originalFingerprint + '\n' + lockedFingerprint + '\n';
    return sha256Hex(canonical);
}

std::string SecretKey::toJson() const
{
    json j;
    j["format"] = kFormat;
    j["version"] = kVersion;
    j["method"] = method;
    j["created_at"] = createdAt;
    j["created_by"] = createdBy;
    j["settings"] = {{"mode", settings.mode}, {"theta", settings.theta}, {"alpha", settings.alpha},
        {"t_loss", settings.lossThreshold}, {"max_iter", settings.maxIterations}, {"samples", settings.samples},
        {"class_balanced", settings.classBalanced}, {"seed", settings.seed}, {"random_layers", settings.randomLayers},
        {"all_layers", settings.allLayers}, {"max_weights", settings.maxWeights},
        {"target_accuracy", settings.targetAccuracy}, {"candidates", settings.candidates},
        {"lookahead", settings.lookahead}, {"chunk_size", settings.chunkSize}, {"layers", settings.layers}};
    j["encryption_set_seed"] = settings.seed;
    j["model"] = {{"fingerprint_original", originalFingerprint}, {"fingerprint_locked", lockedFingerprint},
        {"n_params", parameterCount}};
    json list = json::array();
    for (const KeyEntry &e : entries)
        list.push_back({{"layer", e.layer}, {"index", e.index}, {"perturbation", e.perturbation}});
    j["entries"] = std::move(list);
    j["entries_sha256"] = entriesChecksum();
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
        SecretKey key;
        key.method = j.at("method").get<std::string>();
        if (key.method != "advparams")
            return Error{"key uses the method \"" + key.method + "\", which this ParamLock cannot unlock"};
        key.createdAt = j.value("created_at", std::string());
        key.createdBy = j.value("created_by", std::string());
        const json &s = j.at("settings");
        key.settings.mode = s.at("mode").get<std::string>();
        key.settings.theta = s.at("theta").get<double>();
        key.settings.alpha = s.at("alpha").get<double>();
        key.settings.lossThreshold = s.at("t_loss").get<double>();
        key.settings.maxIterations = int(whole(s.at("max_iter"), "max_iter", 0, INT32_MAX));
        key.settings.samples = whole(s.at("samples"), "samples", 0, INT64_MAX);
        key.settings.classBalanced = s.value("class_balanced", false);
        key.settings.seed = unsignedWhole(s.at("seed"), "seed");
        key.settings.randomLayers = int(wholeOr(s, "random_layers", 0, 0, INT32_MAX));
        key.settings.allLayers = s.value("all_layers", false);
        key.settings.maxWeights = wholeOr(s, "max_weights", 0, 0, INT64_MAX);
        key.settings.targetAccuracy = s.value("target_accuracy", 0.0);
        key.settings.candidates = int(wholeOr(s, "candidates", 8, 0, INT32_MAX));
        key.settings.lookahead = s.value("lookahead", false);
        key.settings.chunkSize = int(wholeOr(s, "chunk_size", 0, 0, INT32_MAX));
        key.settings.layers = s.at("layers").get<std::vector<std::string>>();
        const json &m = j.at("model");
        key.originalFingerprint = m.at("fingerprint_original").get<std::string>();
        key.lockedFingerprint = m.at("fingerprint_locked").get<std::string>();
        key.parameterCount = whole(m.at("n_params"), "n_params", 0, INT64_MAX);
        std::set<std::pair<std::string, int64_t>> seen;
        for (const json &e : j.at("entries")) {
            KeyEntry entry{e.at("layer").get<std::string>(),
                whole(e.at("index"), "an entry's index", INT64_MIN, INT64_MAX), e.at("perturbation").get<double>()};
            if (entry.index < 0)
                return Error{"key entry for " + entry.layer + " has a negative index"};
            if (!seen.insert({entry.layer, entry.index}).second)
                return Error{"key lists " + entry.layer + "[" + std::to_string(entry.index) + "] twice"};
            key.entries.push_back(std::move(entry));
        }
        if (j.at("entries_sha256").get<std::string>() != key.entriesChecksum())
            return Error{"key file was modified or is corrupt: its entries do not match their checksum"};
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
