// The dense lock's key payload, version 1: {"version": 1, "settings": {...the parameter table's values...},
// "seed": ..., "secret": "64 hex digits", "layers": [{"layer", "count"}, ...]}. The layers are listed in stream order:
// the i-th layer is permuted by the secret's stream i.
#include "dense.h"

#include "jsonfields.h"
#include "parameterjson.h"
#include "parametertable.h"
#include "text.h"

#include <nlohmann/json.hpp>

#include <climits>
#include <set>

namespace paramlock {

using nlohmann::json;
using namespace jsonfields;

namespace dense {
const ParameterTable<DenseSettings> &parameterTable();
} // namespace dense

namespace {
constexpr int kPayloadVersion = 1;
} // namespace

std::string DenseKey::toPayload() const
{
    const std::string hex = hexText(secret.data(), secret.size());
    json list = json::array();
    for (const DenseLayer &l : layers)
        list.push_back({{"layer", l.layer}, {"count", l.count}});
    return json{{"version", kPayloadVersion},
        {"settings", parametersToJson(dense::parameterTable().specs(), valuesOfSettings(settings))},
        {"seed", settings.seed}, {"secret", hex}, {"layers", std::move(list)}}
        .dump();
}

Expected<DenseKey> DenseKey::of(const SecretKey &key)
{
    if (key.method != "dense")
        return Error{"the key was made by the method \"" + key.method + "\", not by the dense lock"};
    try {
        const json p = json::parse(key.payload);
        const int64_t version = whole(p.at("version"), "the payload's version", 1, INT32_MAX);
        if (version > kPayloadVersion)
            return Error{"the key's dense-lock payload has version " + std::to_string(version)
                + ", newer than this ParamLock understands; update ParamLock"};
        DenseKey out;
        auto values = parametersFromJson(dense::parameterTable().specs(), p.at("settings"));
        if (!values)
            return Error{"key file is malformed: " + values.error()};
        auto settings = dense::parameterTable().apply(*values);
        if (!settings)
            return Error{"key file is malformed: " + settings.error()};
        out.settings = *settings;
        out.settings.seed = unsignedWhole(p.at("seed"), "seed");
        const std::string hex = p.at("secret").get<std::string>();
        if (!readHex(hex, out.secret.data(), out.secret.size()))
            return Error{"key file is malformed: the secret must be " + std::to_string(2 * out.secret.size())
                + " lower-case hex digits"};
        std::set<std::string> seen;
        int64_t total = 0;
        for (const json &l : p.at("layers")) {
            DenseLayer layer{l.at("layer").get<std::string>(), whole(l.at("count"), "a layer's count", 0, INT64_MAX)};
            if (!seen.insert(layer.layer).second)
                return Error{"key lists the layer " + layer.layer + " twice"};
            total += layer.count;
            out.layers.push_back(std::move(layer));
        }
        if (out.layers.empty())
            return Error{"key file is malformed: it lists no layer"};
        if (total != key.secretCount)
            return Error{"the key says it holds " + std::to_string(key.secretCount) + " weights but its layers hold "
                + std::to_string(total)};
        return out;
    } catch (const json::exception &e) {
        return Error{std::string("key file is incomplete or malformed: ") + e.what()};
    } catch (const Failure &e) {
        return Error{std::string("key file is malformed: ") + e.what()};
    }
}

} // namespace paramlock
