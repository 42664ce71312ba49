// The registry and the licence, in the key envelope every method shares (method "securenet"; mode "registry" or
// "licence"), so that sealing, checksums and the model binding are the envelope's. Payload version 2:
//   registry: {"version": 2, "settings": {...}, "seed": ..., "classes": 10, "owner_secret": "64 hex digits",
//              "licensees": [{"id", "scheme", "classes": [...], "groups": [[...]], "generation", "revoked",
//                             "pattern_values": "two hex digits per pixel, the learnt value as a signed byte"}]}
//   licence:  {"version": 2, "settings": {...}, "seed": ..., "classes": 10, "secret": "64 hex digits",
//              "licensee": {...as above...}}
// "pattern_values" is there only for a pattern learnt in training (version 2); version 1 has none and reads as before.
#include "securenet.h"

#include "jsonfields.h"
#include "parameterjson.h"
#include "parametertable.h"
#include "text.h"

#include <nlohmann/json.hpp>

#include <climits>
#include <cstdlib>
#include <functional>
#include <set>

namespace paramlock {

using nlohmann::json;
using namespace jsonfields;

namespace securenet {
const ParameterTable<LicenceSettings> &parameterTable();
} // namespace securenet

namespace {

constexpr int kPayloadVersion = 2;

json licenseeJson(const Licensee &l)
{
    json j{{"id", l.id}, {"scheme", schemeId(l.scheme)}, {"classes", l.classes}, {"groups", l.groups},
        {"generation", l.generation}, {"revoked", l.revoked}};
    if (!l.learned.empty()) {
        std::vector<uint8_t> bytes;
        for (int16_t v : l.learned)
            bytes.push_back(uint8_t(int8_t(v)));
        j["pattern_values"] = hexText(bytes.data(), bytes.size());
    }
    return j;
}

std::vector<int> classesOf(const json &list, int classCount, const std::string &what)
{
    std::vector<int> out;
    for (const json &c : list)
        out.push_back(int(whole(c, what, 0, classCount - 1)));
    return out;
}

Licensee licenseeOf(const json &j, int classCount)
{
    Licensee l;
    l.id = j.at("id").get<std::string>();
    if (l.id.empty())
        throw Failure("a licensee has no name");
    const std::string scheme = j.at("scheme").get<std::string>();
    l.scheme = scheme == "classes" ? LicenceScheme::Classes
        : scheme == "coarse"       ? LicenceScheme::Coarse
        : scheme == "full"         ? LicenceScheme::Full
                           : throw Failure("the licensee " + l.id + " has the unknown scheme \"" + scheme + "\"");
    l.classes = classesOf(j.at("classes"), classCount, "a licensed class");
    for (const json &g : j.at("groups"))
        l.groups.push_back(classesOf(g, classCount, "a class of a group"));
    l.generation = int(whole(j.at("generation"), "a licensee's generation", 0, INT32_MAX));
    l.revoked = j.at("revoked").get<bool>();
    if (j.contains("pattern_values")) {
        const std::string hex = j.at("pattern_values").get<std::string>();
        std::vector<uint8_t> bytes(hex.size() / 2);
        if (hex.empty() || hex.size() % 2 != 0 || !readHex(hex, bytes.data(), bytes.size()))
            throw Failure("the licensee " + l.id + "'s pattern must be two lower-case hex digits per pixel");
        for (uint8_t b : bytes)
            l.learned.push_back(int16_t(int8_t(b)));
    }
    if (l.scheme == LicenceScheme::Classes && l.classes.empty())
        throw Failure("the licensee " + l.id + " has a class-subset licence without classes");
    if (l.scheme == LicenceScheme::Coarse && l.groups.empty())
        throw Failure("the licensee " + l.id + " has a coarse licence without groups");
    return l;
}

json settingsJson(const LicenceSettings &settings)
{
    return parametersToJson(securenet::parameterTable().specs(), valuesOfSettings(settings));
}

/** The payload's version, settings and class count; throws Failure or json::exception. */
json openPayload(const SecretKey &key, const std::string &mode, LicenceSettings &settings, int &classCount)
{
    if (key.method != "securenet")
        throw Failure("the file was made by the method \"" + key.method + "\", not by SecureNet licensing");
    if (key.mode != mode)
        throw Failure("the file is a " + (key.mode.empty() ? std::string("key") : key.mode) + ", not a " + mode
            + (mode == "licence" ? " (give the licence issued to a licensee)" : " (give the owner's registry)"));
    json p = json::parse(key.payload);
    const int64_t version = whole(p.at("version"), "the payload's version", 1, INT32_MAX);
    if (version > kPayloadVersion)
        throw Failure("the " + mode + " has version " + std::to_string(version)
            + ", newer than this ParamLock understands; update ParamLock");
    auto values = parametersFromJson(securenet::parameterTable().specs(), p.at("settings"));
    if (!values)
        throw Failure(values.error());
    auto s = securenet::parameterTable().apply(*values);
    if (!s)
        throw Failure(s.error());
    settings = *s;
    if (!p.at("settings").contains("schedule")) // written before the schedule was a setting: constant
        settings.cosine = false;
    if (!p.at("settings").contains("schedule_floor")) // written before the floor was a setting: the cosine fell to 0
        settings.scheduleFloor = 0.0;
    // Written before the licensee's weight was a setting: every copy counted once.
    if (!p.at("settings").contains("licensed_weight"))
        settings.licensedWeight = 1.0;
    if (!p.at("settings").contains("refusal_lean")) // written before the lean was a setting: uniform
        settings.refusalLean = 0.0;
    if (!p.at("settings").contains("forged_copies")) // written before it was a setting: one per licensee
        settings.forgedCopies = 0;
    if (!p.at("settings").contains("weight_average")) // written before it was a setting: the last step's weights
        settings.weightAverage = 0.0;
    settings.seed = unsignedWhole(p.at("seed"), "seed");
    classCount = int(whole(p.at("classes"), "the class count", 2, 1 << 20));
    return p;
}

/** A learnt pattern stays within the settings' amplitude (the lock keeps it there). */
void checkLearned(const Licensee &l, const LicenceSettings &settings)
{
    for (int16_t v : l.learned)
        if (std::abs(int(v)) > settings.amplitude)
            throw Failure("the licensee " + l.id + "'s pattern moves a pixel by " + std::to_string(v)
                + " grey levels, beyond the amplitude " + std::to_string(settings.amplitude));
}

void readSecret(const json &p, const char *field, LicenceSecret &secret)
{
    if (!readHex(p.at(field).get<std::string>(), secret.data(), secret.size()))
        throw Failure(std::string("the ") + field + " must be 64 lower-case hex digits");
}

template<typename T> Expected<T> decoded(const std::string &what, const std::function<T()> &read)
{
    try {
        return read();
    } catch (const json::exception &e) {
        return Error{"the " + what + " is incomplete or malformed: " + e.what()};
    } catch (const Failure &e) {
        return Error{std::string(e.what())};
    }
}

} // namespace

const Licensee *LicenceRegistry::find(const std::string &id) const
{
    for (const Licensee &l : licensees)
        if (l.id == id)
            return &l;
    return nullptr;
}

InputStamp LicenceRegistry::patternOf(const Licensee &licensee, const Model &model) const
{
    const ModelMetadata &m = model.metadata();
    return licenseePattern(
        licenseeSecret(owner, licensee.id, licensee.generation), licensee, settings, m.channels, m.height, m.width);
}

std::string LicenceRegistry::toPayload() const
{
    json list = json::array();
    for (const Licensee &l : licensees)
        list.push_back(licenseeJson(l));
    return json{{"version", kPayloadVersion}, {"settings", settingsJson(settings)}, {"seed", settings.seed},
        {"classes", classCount}, {"owner_secret", hexText(owner.data(), owner.size())}, {"licensees", list}}
        .dump();
}

Expected<LicenceRegistry> LicenceRegistry::of(const SecretKey &key)
{
    return decoded<LicenceRegistry>("registry", [&] {
        LicenceRegistry r;
        const json p = openPayload(key, "registry", r.settings, r.classCount);
        readSecret(p, "owner_secret", r.owner);
        std::set<std::string> ids;
        for (const json &l : p.at("licensees")) {
            r.licensees.push_back(licenseeOf(l, r.classCount));
            checkLearned(r.licensees.back(), r.settings);
            if (!ids.insert(r.licensees.back().id).second)
                throw Failure("the registry lists the licensee " + r.licensees.back().id + " twice");
        }
        if (r.licensees.empty())
            throw Failure("the registry lists no licensee");
        if (int64_t(r.licensees.size()) != key.secretCount)
            throw Failure("the registry says it holds " + std::to_string(key.secretCount) + " licensees but lists "
                + std::to_string(r.licensees.size()));
        return r;
    });
}

InputStamp Licence::pattern(int channels, int height, int width) const
{
    return licenseePattern(secret, licensee, settings, channels, height, width);
}

std::string Licence::toPayload() const
{
    return json{{"version", kPayloadVersion}, {"settings", settingsJson(settings)}, {"seed", settings.seed},
        {"classes", classCount}, {"secret", hexText(secret.data(), secret.size())},
        {"licensee", licenseeJson(licensee)}}
        .dump();
}

Expected<Licence> Licence::of(const SecretKey &key)
{
    return decoded<Licence>("licence", [&] {
        Licence l;
        const json p = openPayload(key, "licence", l.settings, l.classCount);
        readSecret(p, "secret", l.secret);
        l.licensee = licenseeOf(p.at("licensee"), l.classCount);
        checkLearned(l.licensee, l.settings);
        if (key.secretCount != 1)
            throw Failure("a licence holds one licensee's secret, this file says " + std::to_string(key.secretCount));
        return l;
    });
}

Expected<SecretKey> issueLicence(const SecretKey &registry, const std::string &licensee)
{
    auto r = LicenceRegistry::of(registry);
    if (!r)
        return Error{r.error()};
    const Licensee *l = r->find(licensee);
    if (!l) {
        std::string known;
        for (const Licensee &k : r->licensees)
            known += (known.empty() ? "" : ", ") + k.id;
        return Error{"the registry has no licensee \"" + licensee + "\" (it has " + known + ")"};
    }
    if (l->revoked)
        return Error{"the licensee " + licensee + " is revoked: re-key with --add to license them again"};
    Licence out;
    out.settings = r->settings;
    out.licensee = *l;
    out.secret = licenseeSecret(r->owner, l->id, l->generation);
    out.classCount = r->classCount;
    SecretKey key = registry;
    key.mode = "licence";
    key.secretCount = 1;
    key.payload = out.toPayload();
    return key;
}

Expected<void> checkLicenceFits(const Model &model, const SecretKey &licence)
{
    if (licence.method != "securenet")
        return Error{"this is a key of the method \"" + licence.method
            + "\", not a licence: unlock the model with it instead (paramlock-cli unlock)"};
    const std::string fingerprint = model.fingerprint();
    if (fingerprint == licence.lockedFingerprint) {
        // A learnt pattern has one value per input pixel of the model it was trained with.
        const ModelMetadata &m = model.metadata();
        const size_t pixels = size_t(m.channels) * size_t(m.height) * size_t(m.width);
        std::vector<Licensee> licensees;
        if (auto r = LicenceRegistry::of(licence))
            licensees = r->licensees;
        else if (auto l = Licence::of(licence))
            licensees = {l->licensee};
        for (const Licensee &l : licensees)
            if (!l.learned.empty() && l.learned.size() != pixels)
                return Error{"the " + licence.mode + " holds a pattern of " + std::to_string(l.learned.size())
                    + " values for " + l.id + ", but the model's inputs have " + std::to_string(pixels)
                    + " pixels; it was damaged: use the file the owner issued"};
        return {};
    }
    if (fingerprint == licence.originalFingerprint)
        return Error{"this model is the original, before licensing: give the licensed model the " + licence.mode
            + " was made for"};
    return Error{"the " + licence.mode + " was made for a different model (fingerprint "
        + licence.lockedFingerprint.substr(0, 12) + "… vs this model's " + fingerprint.substr(0, 12)
        + "…); a re-key makes a new licensed model and new licences"};
}

} // namespace paramlock
