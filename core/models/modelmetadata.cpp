#include "model.h"

#include "jsonfields.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <utility>

namespace paramlock {

using nlohmann::json;

namespace {
int boundedInt(const json &value, int limit, const char *what)
{
    return int(jsonfields::whole(value, std::string("model metadata: ") + what, 0, limit));
}
} // namespace

std::string ModelMetadata::toJson() const
{
    json j;
    j["format"] = "paramlock-model";
    j["version"] = 1;
    j["architecture"] = architecture;
    j["dataset"] = dataset;
    j["input_shape"] = {channels, height, width};
    j["num_classes"] = classCount;
    j["mean"] = normalization.mean;
    j["std"] = normalization.std;
    j["class_names"] = classNames;
    if (!trainingRecord.empty())
        j["training"] = json::parse(trainingRecord, nullptr, false);
    return j.dump(1);
}

Expected<ModelMetadata> ModelMetadata::fromJson(const std::string &text)
{
    const json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return Error{"model metadata (paramlock.json) is not valid JSON"};
    try {
        ModelMetadata m;
        m.architecture = j.value("architecture", std::string("torchscript"));
        m.dataset = j.value("dataset", std::string());
        if (j.contains("input_shape")) {
            const json &shape = j.at("input_shape");
            if (!shape.is_array() || shape.size() != 3)
                return Error{"model metadata: input_shape must be [channels, height, width]"};
            m.channels = boundedInt(shape[0], 64, "the channel count");
            m.height = boundedInt(shape[1], 8192, "the input height");
            m.width = boundedInt(shape[2], 8192, "the input width");
        }
        if (j.contains("num_classes"))
            m.classCount = boundedInt(j.at("num_classes"), 100000, "num_classes");
        // Read as double: a value beyond float's range must be refused, not turned into infinity.
        for (auto [field, target] :
            {std::pair{"mean", &m.normalization.mean}, std::pair{"std", &m.normalization.std}}) {
            for (double v : j.value(field, std::vector<double>())) {
                if (!std::isfinite(v) || std::abs(v) > 1e6)
                    return Error{std::string("model metadata: a ") + field + " value is out of range"};
                target->push_back(float(v));
            }
        }
        m.classNames = j.value("class_names", std::vector<std::string>());
        if (j.contains("training") && !j.at("training").is_null())
            m.trainingRecord = j.at("training").dump();
        if (!m.classNames.empty() && m.classCount > 0 && int(m.classNames.size()) != m.classCount)
            return Error{"model metadata: " + std::to_string(m.classNames.size()) + " class names for "
                + std::to_string(m.classCount) + " classes"};
        for (float s : m.normalization.std)
            if (!(s > 0.0f))
                return Error{"model metadata: every std must be positive"};
        return m;
    } catch (const json::exception &e) {
        return Error{std::string("model metadata (paramlock.json) is malformed: ") + e.what()};
    } catch (const Failure &e) {
        return Error{e.what()};
    }
}

} // namespace paramlock
