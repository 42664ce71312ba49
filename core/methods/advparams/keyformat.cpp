// AdvParams' key payload. Version 2: {"version": 2, "settings": {...the parameter table's values...}, "seed": ...,
// "layers": [the layer set, in encryption order], "entries": [{"layer", "index", "perturbation"}, ...]}.
// Version 1 is the settings and entries of a key made before the envelope (see secretkey.h).
#include "internal.h"
#include "parameterjson.h"

#include "jsonfields.h"

#include <nlohmann/json.hpp>

#include <climits>
#include <set>

namespace paramlock {

using nlohmann::json;
using namespace jsonfields;

namespace {

constexpr int kPayloadVersion = 2;

/** The settings of a version-1 key, field by field as that format wrote them. */
AdvParamsSettings settingsOfVersion1(const json &s)
{
    AdvParamsSettings settings;
    auto mode = modeFromId(s.at("mode").get<std::string>());
    if (!mode)
        throw Failure(mode.error());
    settings.mode = *mode;
    settings.theta = s.at("theta").get<double>();
    settings.alpha = s.at("alpha").get<double>();
    settings.lossThreshold = s.at("t_loss").get<double>();
    settings.maxIterations = int(whole(s.at("max_iter"), "max_iter", 0, INT32_MAX));
    settings.samples = whole(s.at("samples"), "samples", 0, INT64_MAX);
    settings.classBalanced = s.value("class_balanced", false);
    settings.seed = unsignedWhole(s.at("seed"), "seed");
    settings.randomLayers = int(wholeOr(s, "random_layers", 0, 0, INT32_MAX));
    settings.allLayers = s.value("all_layers", false);
    settings.maxWeights = wholeOr(s, "max_weights", 0, 0, INT64_MAX);
    settings.targetAccuracy = s.value("target_accuracy", 0.0);
    settings.candidates = int(wholeOr(s, "candidates", 8, 0, INT32_MAX));
    settings.lookahead = s.value("lookahead", false); // keys made before the lookahead drew by the first order
    settings.chunkSize = int(wholeOr(s, "chunk_size", 0, 0, INT32_MAX)); // 0: not recorded (the default)
    settings.layers = s.at("layers").get<std::vector<std::string>>();
    return settings;
}

AdvParamsSettings settingsOfVersion2(const json &p)
{
    auto values = parametersFromJson(advparams::parameterTable().specs(), p.at("settings"));
    if (!values)
        throw Failure(values.error());
    auto settings = advparams::parameterTable().apply(*values);
    if (!settings)
        throw Failure(settings.error());
    settings->seed = unsignedWhole(p.at("seed"), "seed");
    settings->layers = p.at("layers").get<std::vector<std::string>>();
    return *settings;
}

} // namespace

std::string AdvParamsKey::toPayload() const
{
    json list = json::array();
    for (const KeyEntry &e : entries)
        list.push_back({{"layer", e.layer}, {"index", e.index}, {"perturbation", e.perturbation}});
    return json{{"version", kPayloadVersion},
        {"settings", parametersToJson(advparams::parameterTable().specs(), valuesOfSettings(settings))},
        {"seed", settings.seed}, {"layers", settings.layers}, {"entries", std::move(list)}}
        .dump();
}

Expected<AdvParamsKey> AdvParamsKey::of(const SecretKey &key)
{
    if (key.method != advparams::kMethodId)
        return Error{"the key was made by the method \"" + key.method + "\", not by AdvParams"};
    try {
        const json p = json::parse(key.payload);
        const int64_t version = whole(p.at("version"), "the payload's version", 1, INT32_MAX);
        if (version > kPayloadVersion)
            return Error{"the key's AdvParams payload has version " + std::to_string(version)
                + ", newer than this ParamLock understands; update ParamLock"};
        AdvParamsKey out;
        out.settings = version == 1 ? settingsOfVersion1(p.at("settings")) : settingsOfVersion2(p);
        std::set<std::pair<std::string, int64_t>> seen;
        for (const json &e : p.at("entries")) {
            KeyEntry entry{e.at("layer").get<std::string>(),
                whole(e.at("index"), "an entry's index", INT64_MIN, INT64_MAX), e.at("perturbation").get<double>()};
            if (entry.index < 0)
                return Error{"key entry for " + entry.layer + " has a negative index"};
            if (!seen.insert({entry.layer, entry.index}).second)
                return Error{"key lists " + entry.layer + "[" + std::to_string(entry.index) + "] twice"};
            out.entries.push_back(std::move(entry));
        }
        if (int64_t(out.entries.size()) != key.secretCount)
            return Error{"the key says it holds " + std::to_string(key.secretCount) + " weights but lists "
                + std::to_string(out.entries.size())};
        if (modeId(out.settings.mode) != key.mode)
            return Error{"the key's mode \"" + key.mode + "\" does not match its settings"};
        return out;
    } catch (const json::exception &e) {
        return Error{std::string("key file is incomplete or malformed: ") + e.what()};
    } catch (const Failure &e) {
        return Error{std::string("key file is malformed: ") + e.what()};
    }
}

} // namespace paramlock
