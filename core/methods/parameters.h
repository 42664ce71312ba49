#pragma once

// A method's settings, declared once: every parameter's name, label, unit, range, default and help. The CLI's
// flags, the GUI's form rows, the report's settings table and the key's JSON are all made from these tables.

#include "expected.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace paramlock {

/** Which layers a method works on: its mode's choice, all of them, k drawn with the seed, or named ones. */
struct LayerSelection
{
    enum class Kind { ModeDefault, All, Random, Named };
    Kind kind = Kind::ModeDefault;
    int random = 0; ///< k, for Random
    std::vector<std::string> names; ///< for Named

    bool operator==(const LayerSelection &o) const { return kind == o.kind && random == o.random && names == o.names; }
};

enum class ParameterType {
    Integer, ///< a whole number in [minimum, maximum]
    Real, ///< a number in [minimum, maximum]
    Flag, ///< on or off
    Choice, ///< one of `choices` (ids)
    Layers, ///< a LayerSelection
};

using ParameterValue = std::variant<bool, int64_t, double, std::string, LayerSelection>;

/** One choice of a Choice parameter: its id (CLI and JSON), its label and what it does. */
struct ChoiceSpec
{
    std::string id;
    std::string label;
    std::string help;
};

/** One parameter of a method, as every front end shows it. */
struct ParameterSpec
{
    std::string name; ///< the CLI flag and the JSON key: "max-weights" gives --max-weights and "max_weights"
    std::string label; ///< the form's label, e.g. "Step θ"
    std::string unit; ///< e.g. "× layer range", "images"; empty for none
    ParameterType type = ParameterType::Real;
    double minimum = 0.0; ///< Integer and Real: the smallest value allowed
    double maximum = 0.0; ///< Integer and Real: the largest value allowed
    ParameterValue defaultValue;
    std::string help; ///< one or two sentences for a user who never read the paper
    std::vector<std::string> modes; ///< the modes that use it; empty: every mode
    std::vector<ChoiceSpec> choices; ///< Choice: the allowed values
    std::string zeroMeans; ///< Integer and Real: what 0 stands for ("auto: ..."), empty when 0 is a plain value

    /** The key of this parameter in JSON ("max-weights" -> "max_weights"). */
    std::string jsonKey() const;
    /** Whether `mode` uses it. */
    bool usedIn(const std::string &mode) const;
};

/** A spec in one call, for a method's table. */
ParameterSpec parameterSpec(const char *name, const char *label, const char *unit, double minimum, double maximum,
    std::string help, std::vector<std::string> modes = {}, std::string zeroMeans = {});

/** Parameter values by name; what is absent takes its default. */
class ParameterValues
{
public:
    void set(const std::string &name, ParameterValue value) { m_values[name] = std::move(value); }
    bool has(const std::string &name) const { return m_values.count(name) > 0; }
    const ParameterValue *find(const std::string &name) const
    {
        const auto it = m_values.find(name);
        return it == m_values.end() ? nullptr : &it->second;
    }
    const std::map<std::string, ParameterValue> &all() const { return m_values; }

private:
    std::map<std::string, ParameterValue> m_values;
};

/** The spec named `name` in a table, or nullptr. */
const ParameterSpec *findParameter(const std::vector<ParameterSpec> &table, const std::string &name);

/**
 * Checks a value against its spec: type, range, choices. The message names the parameter as a user typed it
 * ("--theta must be between 0.001 and 1 (got 5)").
 */
Expected<void> checkParameter(const ParameterSpec &spec, const ParameterValue &value);

/** Reads a value from text as typed on a command line ("0.07", "on", "paper", "conv1.weight,fc3.weight"). */
Expected<ParameterValue> parseParameter(const ParameterSpec &spec, const std::string &text);

/** A value as text, in the same form parseParameter reads ("0.07", "all", "random 6", "conv1,fc3"). */
std::string parameterText(const ParameterSpec &spec, const ParameterValue &value);

/** Whether `value` is the 0 that stands for something else (the spec's zeroMeans: "auto: ...", "all"). */
bool meansZeroSetting(const ParameterSpec &spec, const ParameterValue &value);

/**
 * Every parameter of `table` that `values` sets, checked; unknown names are refused. The result holds only what
 * was set: a method fills in its defaults.
 */
Expected<void> checkParameters(const std::vector<ParameterSpec> &table, const ParameterValues &values);

// Typed reads of a value that checkParameter accepted.
inline int64_t integerOf(const ParameterValue &v)
{
    return std::holds_alternative<double>(v) ? int64_t(std::get<double>(v)) : std::get<int64_t>(v);
}
inline double realOf(const ParameterValue &v)
{
    return std::holds_alternative<int64_t>(v) ? double(std::get<int64_t>(v)) : std::get<double>(v);
}

} // namespace paramlock
