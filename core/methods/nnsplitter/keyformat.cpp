// NNSplitter's key payload, version 1: {"version": 1, "settings": {...the parameter table's values...}, "seed": ...,
// "centre": c, "window": eps, "filters": [{"layer", "filters": [...]}],
// "entries": [{"layer", "index", "original"}, ...]}. An original is a float written as the double it equals, so it
// reads back bit for bit.
#include "internal.h"
#include "parameterjson.h"

#include "jsonfields.h"

#include <nlohmann/json.hpp>

#include <climits>
#include <cmath>
#include <set>

namespace paramlock {

using nlohmann::json;
using namespace jsonfields;

namespace {
constexpr int kPayloadVersion = 1;
} // namespace

std::string NNSplitterKey::toPayload() const
{
    json filterList = json::array();
    for (const auto &[layer, chosen] : filters)
        filterList.push_back({{"layer", layer}, {"filters", chosen}});
    json list = json::array();
    for (const OriginalValue &e : entries)
        list.push_back({{"layer", e.layer}, {"index", e.index}, {"original", double(e.value)}});
    return json{{"version", kPayloadVersion},
        {"settings", parametersToJson(nnsplitter::parameterTable().specs(), valuesOfSettings(settings))},
        {"seed", settings.seed}, {"centre", centre}, {"window", window}, {"filters", std::move(filterList)},
        {"entries", std::move(list)}}
        .dump();
}

Expected<NNSplitterKey> NNSplitterKey::of(const SecretKey &key)
{
    if (key.method != nnsplitter::kMethodId)
        return Error{"the key was made by the method \"" + key.method + "\", not by NNSplitter"};
    try {
        const json p = json::parse(key.payload);
        const int64_t version = whole(p.at("version"), "the payload's version", 1, INT32_MAX);
        if (version > kPayloadVersion)
            return Error{"the key's NNSplitter payload has version " + std::to_string(version)
                + ", newer than this ParamLock understands; update ParamLock"};
        NNSplitterKey out;
        auto values = parametersFromJson(nnsplitter::parameterTable().specs(), p.at("settings"));
        if (!values)
            return Error{"key file is malformed: " + values.error()};
        auto settings = nnsplitter::parameterTable().apply(*values);
        if (!settings)
            return Error{"key file is malformed: " + settings.error()};
        out.settings = *settings;
        out.settings.seed = unsignedWhole(p.at("seed"), "seed");
        out.centre = p.at("centre").get<double>();
        out.window = p.at("window").get<double>();
        for (const json &f : p.at("filters"))
            out.filters.emplace_back(f.at("layer").get<std::string>(), f.at("filters").get<std::vector<int64_t>>());
        std::set<std::pair<std::string, int64_t>> seen;
        for (const json &e : p.at("entries")) {
            const double original = e.at("original").get<double>();
            OriginalValue entry{e.at("layer").get<std::string>(),
                whole(e.at("index"), "an entry's index", 0, INT64_MAX), float(original)};
            if (!std::isfinite(original) || double(entry.value) != original)
                return Error{"key entry for " + entry.layer + " holds an original value that is not a float"};
            if (!seen.insert({entry.layer, entry.index}).second)
                return Error{"key lists " + entry.layer + "[" + std::to_string(entry.index) + "] twice"};
            out.entries.push_back(std::move(entry));
        }
        if (int64_t(out.entries.size()) != key.secretCount)
            return Error{"the key says it holds " + std::to_string(key.secretCount) + " weights but lists "
                + std::to_string(out.entries.size())};
        return out;
    } catch (const json::exception &e) {
        return Error{std::string("key file is incomplete or malformed: ") + e.what()};
    } catch (const Failure &e) {
        return Error{std::string("key file is malformed: ") + e.what()};
    }
}

} // namespace paramlock
