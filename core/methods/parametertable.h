#pragma once

// Binds a method's parameter specs to the fields of its settings struct, so that each default is written once:
// in the struct's initialisers (as LibTorch's optimiser options do). The specs take their defaults from a
// default-constructed struct.

#include "parameters.h"

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace paramlock {

template<typename Settings> class ParameterTable
{
public:
    using Getter = std::function<ParameterValue(const Settings &)>;
    using Setter = std::function<void(Settings &, const ParameterValue &)>;

    ParameterTable &custom(ParameterSpec spec, Getter get, Setter set)
    {
        spec.defaultValue = get(Settings{});
        m_specs.push_back(spec);
        m_rows.push_back({std::move(get), std::move(set)});
        return *this;
    }
    ParameterTable &real(ParameterSpec spec, double Settings::*field)
    {
        spec.type = ParameterType::Real;
        return custom(
            std::move(spec), [field](const Settings &s) { return ParameterValue(s.*field); },
            [field](Settings &s, const ParameterValue &v) { s.*field = realOf(v); });
    }
    template<typename Int> ParameterTable &integer(ParameterSpec spec, Int Settings::*field)
    {
        spec.type = ParameterType::Integer;
        return custom(
            std::move(spec), [field](const Settings &s) { return ParameterValue(int64_t(s.*field)); },
            [field](Settings &s, const ParameterValue &v) { s.*field = Int(integerOf(v)); });
    }
    /** A choice among named values; `get` and `set` translate between the settings and the value's id. */
    ParameterTable &choice(ParameterSpec spec, std::vector<ChoiceSpec> choices,
        std::function<std::string(const Settings &)> get, std::function<void(Settings &, const std::string &)> set)
    {
        spec.type = ParameterType::Choice;
        spec.choices = std::move(choices);
        return custom(
            std::move(spec), [get = std::move(get)](const Settings &s) { return ParameterValue(get(s)); },
            [set = std::move(set)](Settings &s, const ParameterValue &v) { set(s, std::get<std::string>(v)); });
    }
    ParameterTable &flag(ParameterSpec spec, bool Settings::*field)
    {
        spec.type = ParameterType::Flag;
        return custom(
            std::move(spec), [field](const Settings &s) { return ParameterValue(s.*field); },
            [field](Settings &s, const ParameterValue &v) { s.*field = std::get<bool>(v); });
    }

    const std::vector<ParameterSpec> &specs() const { return m_specs; }

    /** `base` with every value of `values` checked and applied; names outside the table are refused. */
    Expected<Settings> apply(const ParameterValues &values, Settings base = Settings{}) const
    {
        if (auto ok = checkParameters(m_specs, values); !ok)
            return Error{ok.error()};
        for (size_t i = 0; i < m_specs.size(); ++i)
            if (const ParameterValue *v = values.find(m_specs[i].name))
                m_rows[i].set(base, *v);
        return base;
    }

    /** Every parameter's value in `settings`. */
    ParameterValues valuesOf(const Settings &settings) const
    {
        ParameterValues values;
        for (size_t i = 0; i < m_specs.size(); ++i)
            values.set(m_specs[i].name, m_rows[i].get(settings));
        return values;
    }

private:
    struct Row
    {
        Getter get;
        Setter set;
    };
    std::vector<ParameterSpec> m_specs;
    std::vector<Row> m_rows;
};

} // namespace paramlock
