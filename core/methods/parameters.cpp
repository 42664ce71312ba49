#include "parameters.h"

#include <QString>
#include <QStringList>

#include <algorithm>
#include <cmath>

namespace paramlock {

ParameterSpec parameterSpec(const char *name, const char *label, const char *unit, double minimum, double maximum,
    std::string help, std::vector<std::string> modes, std::string zeroMeans)
{
    ParameterSpec p;
    p.name = name;
    p.label = label;
    p.unit = unit;
    p.minimum = minimum;
    p.maximum = maximum;
    p.help = std::move(help);
    p.modes = std::move(modes);
    p.zeroMeans = std::move(zeroMeans);
    return p;
}

namespace {

std::string flagName(const ParameterSpec &spec)
{
    return "--" + spec.name;
}

std::string number(double v)
{
    return QString::number(v, 'g', 10).toStdString();
}

std::string choiceList(const ParameterSpec &spec)
{
    std::string text;
    for (const ChoiceSpec &c : spec.choices)
        text += (text.empty() ? "" : ", ") + c.id;
    return text;
}

std::string joinNames(const std::vector<std::string> &names)
{
    std::string text;
    for (const std::string &n : names)
        text += (text.empty() ? "" : ",") + n;
    return text;
}

} // namespace

std::string ParameterSpec::jsonKey() const
{
    std::string key = name;
    std::replace(key.begin(), key.end(), '-', '_');
    return key;
}

bool ParameterSpec::usedIn(const std::string &mode) const
{
    return modes.empty() || std::find(modes.begin(), modes.end(), mode) != modes.end();
}

const ParameterSpec *findParameter(const std::vector<ParameterSpec> &table, const std::string &name)
{
    for (const ParameterSpec &spec : table)
        if (spec.name == name)
            return &spec;
    return nullptr;
}

Expected<void> checkParameter(const ParameterSpec &spec, const ParameterValue &value)
{
    const std::string flag = flagName(spec);
    switch (spec.type) {
    case ParameterType::Integer:
    case ParameterType::Real: {
        double v = 0.0;
        if (std::holds_alternative<int64_t>(value))
            v = double(std::get<int64_t>(value));
        else if (std::holds_alternative<double>(value))
            v = std::get<double>(value);
        else
            return Error{flag + " expects a number"};
        if (spec.type == ParameterType::Integer && v != std::floor(v))
            return Error{flag + " expects a whole number (got " + number(v) + ")"};
        if (!std::isfinite(v) || v < spec.minimum || v > spec.maximum)
            return Error{flag + " must be between " + number(spec.minimum) + " and " + number(spec.maximum) + " (got "
                + number(v) + ")"};
        return {};
    }
    case ParameterType::Flag:
        if (!std::holds_alternative<bool>(value))
            return Error{flag + " is on or off"};
        return {};
    case ParameterType::Choice: {
        if (!std::holds_alternative<std::string>(value))
            return Error{flag + " expects one of " + choiceList(spec)};
        const std::string &id = std::get<std::string>(value);
        for (const ChoiceSpec &c : spec.choices)
            if (c.id == id)
                return {};
        return Error{flag + " must be one of " + choiceList(spec) + " (got \"" + id + "\")"};
    }
    case ParameterType::Layers: {
        if (!std::holds_alternative<LayerSelection>(value))
            return Error{flag + " expects a layer selection"};
        const LayerSelection &s = std::get<LayerSelection>(value);
        if (s.kind == LayerSelection::Kind::Random && s.random < 1)
            return Error{"--random-" + spec.name + " expects a whole number >= 1"};
        if (s.kind == LayerSelection::Kind::Named && s.names.empty())
            return Error{flag + " is empty: name at least one conv/FC layer"};
        return {};
    }
    }
    return Error{flag + ": unknown parameter type"};
}

Expected<ParameterValue> parseParameter(const ParameterSpec &spec, const std::string &text)
{
    const QString t = QString::fromStdString(text).trimmed();
    const std::string flag = flagName(spec);
    ParameterValue value;
    switch (spec.type) {
    case ParameterType::Integer: {
        bool ok = false;
        const qlonglong v = t.toLongLong(&ok);
        if (!ok)
            return Error{flag + " expects a whole number (got \"" + text + "\")"};
        value = int64_t(v);
        break;
    }
    case ParameterType::Real: {
        bool ok = false;
        const double v = t.toDouble(&ok);
        if (!ok)
            return Error{flag + " expects a number (got \"" + text + "\")"};
        value = v;
        break;
    }
    case ParameterType::Flag:
        if (t == QLatin1String("on") || t == QLatin1String("true") || t == QLatin1String("1"))
            value = true;
        else if (t == QLatin1String("off") || t == QLatin1String("false") || t == QLatin1String("0"))
            value = false;
        else
            return Error{flag + " expects on or off (got \"" + text + "\")"};
        break;
    case ParameterType::Choice:
        value = t.toStdString();
        break;
    case ParameterType::Layers: {
        LayerSelection s;
        if (t == QLatin1String("all")) {
            s.kind = LayerSelection::Kind::All;
        } else if (t.startsWith(QLatin1String("random "))) {
            bool ok = false;
            s.kind = LayerSelection::Kind::Random;
            s.random = t.mid(7).trimmed().toInt(&ok);
            if (!ok)
                return Error{"--random-" + spec.name + " expects a whole number >= 1"};
        } else if (t == QLatin1String("default")) {
            s.kind = LayerSelection::Kind::ModeDefault;
        } else {
            s.kind = LayerSelection::Kind::Named;
            for (const QString &name : t.split(QLatin1Char(','), Qt::SkipEmptyParts))
                s.names.push_back(name.trimmed().toStdString());
        }
        value = s;
        break;
    }
    }
    if (auto ok = checkParameter(spec, value); !ok)
        return Error{ok.error()};
    return value;
}

bool meansZeroSetting(const ParameterSpec &spec, const ParameterValue &value)
{
    return (spec.type == ParameterType::Integer || spec.type == ParameterType::Real) && !spec.zeroMeans.empty()
        && realOf(value) == 0.0;
}

std::string parameterText(const ParameterSpec &spec, const ParameterValue &value)
{
    switch (spec.type) {
    case ParameterType::Integer:
        return std::to_string(integerOf(value));
    case ParameterType::Real:
        return number(realOf(value));
    case ParameterType::Flag:
        return std::get<bool>(value) ? "on" : "off";
    case ParameterType::Choice:
        return std::get<std::string>(value);
    case ParameterType::Layers: {
        const LayerSelection &s = std::get<LayerSelection>(value);
        switch (s.kind) {
        case LayerSelection::Kind::ModeDefault:
            return "default";
        case LayerSelection::Kind::All:
            return "all";
        case LayerSelection::Kind::Random:
            return "random " + std::to_string(s.random);
        case LayerSelection::Kind::Named:
            return joinNames(s.names);
        }
    }
    }
    return {};
}

Expected<void> checkParameters(const std::vector<ParameterSpec> &table, const ParameterValues &values)
{
    for (const auto &[name, value] : values.all()) {
        const ParameterSpec *spec = findParameter(table, name);
        if (!spec)
            return Error{"unknown setting \"" + name + "\""};
        if (auto ok = checkParameter(*spec, value); !ok)
            return ok;
    }
    return {};
}

} // namespace paramlock
