// The fingerprint registry in the key envelope every method shares (method "fingerprint"; mode "shared": one model
// answers every user's fingerprint, or "copies": one copy per user, for tracing), so that sealing, checksums and the
// model binding are the envelope's. Payload version 2:
//   {"version": 2, "settings": {...}, "seed": ..., "classes": 10, "owner_secret": "64 hex digits",
//    "carriers": {"channels": 1, "height": 28, "width": 28, "labels": [...], "pixels": "base64"},
//    "users": [{"id", "subset": [...], "attempt", "removed", "copy_fingerprint"}],
//    "signal_values": "two hex digits per signal pixel"}
// Each user's subset is checked on reading against its keyed draw from the owner's secret. "signal_values" is there
// only when the signals were learnt in the embedding (version 2); version 1 has none and reads as before.
#include "fingerprint.h"

#include "jsonfields.h"
#include "parameterjson.h"
#include "parametertable.h"
#include "text.h"

#include <QByteArray>
#include <nlohmann/json.hpp>

#include <climits>
#include <set>

namespace paramlock {

using nlohmann::json;
using namespace jsonfields;

namespace fingerprint {
const ParameterTable<FingerprintSettings> &parameterTable();
} // namespace fingerprint

namespace {

constexpr int kPayloadVersion = 2;

json carriersJson(const Dataset &d)
{
    const QByteArray raw(reinterpret_cast<const char *>(d.pixels.data()), qsizetype(d.pixels.size()));
    return json{{"channels", d.channels}, {"height", d.height}, {"width", d.width}, {"labels", d.labels},
        {"pixels", raw.toBase64().toStdString()}};
}

Dataset carriersOf(const json &j, int classCount)
{
    Dataset d;
    d.name = "fingerprint carriers";
    d.channels = int(whole(j.at("channels"), "the carriers' channels", 1, 4));
    d.height = int(whole(j.at("height"), "the carriers' height", 1, 4096));
    d.width = int(whole(j.at("width"), "the carriers' width", 1, 4096));
    d.classCount = classCount;
    for (const json &l : j.at("labels"))
        d.labels.push_back(int32_t(whole(l, "a carrier's label", 0, classCount - 1)));
    const QByteArray raw = QByteArray::fromBase64(QByteArray::fromStdString(j.at("pixels").get<std::string>()));
    if (int64_t(raw.size()) != d.size() * d.imageBytes() || d.size() < kFingerprintImages)
        throw Failure("the registry's carrier images are damaged (" + std::to_string(raw.size()) + " bytes for "
            + std::to_string(d.size()) + " images)");
    d.pixels.assign(raw.begin(), raw.end());
    return d;
}

} // namespace

std::string FingerprintRegistry::toPayload() const
{
    json list = json::array();
    for (const FingerprintUser &u : users)
        list.push_back(json{{"id", u.id}, {"subset", u.subset}, {"attempt", u.attempt}, {"removed", u.removed},
            {"copy_fingerprint", u.copyFingerprint}});
    json out{{"version", kPayloadVersion},
        {"settings", parametersToJson(fingerprint::parameterTable().specs(), valuesOfSettings(settings))},
        {"seed", settings.seed}, {"classes", classCount}, {"owner_secret", hexText(owner.data(), owner.size())},
        {"carriers", carriersJson(carriers)}, {"users", list}};
    if (!signalValues.empty())
        out["signal_values"] = hexText(signalValues.data(), signalValues.size());
    return out.dump();
}

Expected<FingerprintRegistry> FingerprintRegistry::of(const SecretKey &key)
{
    try {
        if (key.method != "fingerprint")
            throw Failure("the file was made by the method \"" + key.method + "\", not by user fingerprints");
        if (key.mode != "shared" && key.mode != "copies")
            throw Failure("the fingerprint registry has the unknown mode \"" + key.mode + "\"");
        FingerprintRegistry r;
        r.copies = key.mode == "copies";
        const json p = json::parse(key.payload);
        const int64_t version = whole(p.at("version"), "the payload's version", 1, INT32_MAX);
        if (version > kPayloadVersion)
            throw Failure("the registry has version " + std::to_string(version)
                + ", newer than this ParamLock understands; update ParamLock");
        auto values = parametersFromJson(fingerprint::parameterTable().specs(), p.at("settings"));
        if (!values)
            throw Failure(values.error());
        auto s = fingerprint::parameterTable().apply(*values);
        if (!s)
            throw Failure(s.error());
        r.settings = *s;
        r.settings.seed = unsignedWhole(p.at("seed"), "seed");
        r.classCount = int(whole(p.at("classes"), "the class count", 2, 1 << 20));
        if (r.settings.target >= r.classCount)
            throw Failure("the target class " + std::to_string(r.settings.target) + " is not one of the "
                + std::to_string(r.classCount) + " classes");
        if (!readHex(p.at("owner_secret").get<std::string>(), r.owner.data(), r.owner.size()))
            throw Failure("the owner_secret must be 64 lower-case hex digits");
        r.carriers = carriersOf(p.at("carriers"), r.classCount);
        if (p.contains("signal_values")) {
            const std::string hex = p.at("signal_values").get<std::string>();
            std::vector<uint8_t> values(hex.size() / 2);
            if (hex.empty() || hex.size() % 2 != 0 || !readHex(hex, values.data(), values.size()))
                throw Failure("the registry's learnt signals must be two lower-case hex digits per pixel");
            r.signalValues = std::move(values);
            r.signalStamps(); // throws when the values do not fit the signals
        }
        std::set<std::string> ids;
        for (const json &j : p.at("users")) {
            FingerprintUser u;
            u.id = j.at("id").get<std::string>();
            u.attempt = int(whole(j.at("attempt"), "a user's draw", 0, INT32_MAX));
            for (const json &k : j.at("subset"))
                u.subset.push_back(int(whole(k, "a signal of a subset", 0, r.settings.signalCount - 1)));
            u.removed = j.at("removed").get<bool>();
            u.copyFingerprint = j.at("copy_fingerprint").get<std::string>();
            if (!ids.insert(u.id).second)
                throw Failure("the registry lists the user " + u.id + " twice");
            if (u.subset != drawSubset(r.owner, r.settings, u.id, u.attempt))
                throw Failure("the subset of the user " + u.id + " is not the one the owner's secret gives");
            if (r.copies && u.copyFingerprint.empty() && !u.removed)
                throw Failure("the user " + u.id + " has no copy of the model");
            r.users.push_back(std::move(u));
        }
        if (r.users.empty())
            throw Failure("the registry lists no user");
        if (int64_t(r.users.size()) != key.secretCount)
            throw Failure("the registry says it holds " + std::to_string(key.secretCount) + " users but lists "
                + std::to_string(r.users.size()));
        return r;
    } catch (const json::exception &e) {
        return Error{std::string("the registry is incomplete or malformed: ") + e.what()};
    } catch (const Failure &e) {
        return Error{std::string(e.what())};
    }
}

} // namespace paramlock
