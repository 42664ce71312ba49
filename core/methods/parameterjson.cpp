#include "parameterjson.h"

#include "jsonfields.h"

#include <climits>

namespace paramlock {

using nlohmann::json;

namespace {

json layersJson(const LayerSelection &s)
{
    switch (s.kind) {
    case LayerSelection::Kind::All:
        return json{{"kind", "all"}};
    case LayerSelection::Kind::Random:
        return json{{"kind", "random"}, {"k", s.random}};
    case LayerSelection::Kind::Named:
        return json{{"kind", "named"}, {"names", s.names}};
    case LayerSelection::Kind::ModeDefault:
        break;
    }
    return json{{"kind", "default"}};
}

LayerSelection layersFrom(const json &j)
{
    LayerSelection s;
    const std::string kind = j.at("kind").get<std::string>();
    if (kind == "all") {
        s.kind = LayerSelection::Kind::All;
    } else if (kind == "random") {
        s.kind = LayerSelection::Kind::Random;
        s.random = int(jsonfields::whole(j.at("k"), "the layer count k", 0, INT32_MAX));
    } else if (kind == "named") {
        s.kind = LayerSelection::Kind::Named;
        s.names = j.at("names").get<std::vector<std::string>>();
    } else if (kind != "default") {
        throw Failure("unknown layer selection \"" + kind + "\"");
    }
    return s;
}

} // namespace

json parametersToJson(const std::vector<ParameterSpec> &table, const ParameterValues &values)
{
    json out = json::object();
    for (const ParameterSpec &spec : table) {
        const ParameterValue *v = values.find(spec.name);
        if (!v)
            continue;
        switch (spec.type) {
        case ParameterType::Integer:
            out[spec.jsonKey()] = integerOf(*v);
            break;
        case ParameterType::Real:
            out[spec.jsonKey()] = realOf(*v);
            break;
        case ParameterType::Flag:
            out[spec.jsonKey()] = std::get<bool>(*v);
            break;
        case ParameterType::Choice:
            out[spec.jsonKey()] = std::get<std::string>(*v);
            break;
        case ParameterType::Layers:
            out[spec.jsonKey()] = layersJson(std::get<LayerSelection>(*v));
            break;
        }
    }
    return out;
}

Expected<ParameterValues> parametersFromJson(const std::vector<ParameterSpec> &table, const json &object)
{
    if (!object.is_object())
        return Error{"the settings are not a JSON object"};
    ParameterValues values;
    try {
        for (const ParameterSpec &spec : table) {
            const auto it = object.find(spec.jsonKey());
            if (it == object.end())
                continue;
            ParameterValue v;
            switch (spec.type) {
            case ParameterType::Integer:
                v = jsonfields::whole(*it, "the setting " + spec.jsonKey(), INT64_MIN, INT64_MAX);
                break;
            case ParameterType::Real:
                if (!it->is_number())
                    return Error{"the setting " + spec.jsonKey() + " must be a number"};
                v = it->get<double>();
                break;
            case ParameterType::Flag:
                v = it->get<bool>();
                break;
            case ParameterType::Choice:
                v = it->get<std::string>();
                break;
            case ParameterType::Layers:
                v = layersFrom(*it);
                break;
            }
            if (auto ok = checkParameter(spec, v); !ok)
                return Error{"the setting " + spec.jsonKey() + " is invalid: " + ok.error()};
            values.set(spec.name, std::move(v));
        }
    } catch (const json::exception &e) {
        return Error{std::string("the settings are malformed: ") + e.what()};
    } catch (const Failure &e) {
        return Error{std::string("the settings are malformed: ") + e.what()};
    }
    return values;
}

} // namespace paramlock
