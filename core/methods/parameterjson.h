#pragma once

// Internal to core: parameter values in key files and reports' JSON, by each spec's type.

#include "parameters.h"

#include <nlohmann/json.hpp>

namespace paramlock {

/** Every value of `values` that `table` declares, under its JSON key. */
nlohmann::json parametersToJson(const std::vector<ParameterSpec> &table, const ParameterValues &values);

/** The values an object holds for the parameters of `table` (absent ones stay unset); each one checked. */
Expected<ParameterValues> parametersFromJson(const std::vector<ParameterSpec> &table, const nlohmann::json &object);

} // namespace paramlock
