#pragma once

// Reading numbers from untrusted JSON: nlohmann's get<int>() on 1e300 or -1 is undefined behaviour
// (found by fuzzing), so every integer field goes through these checks. Internal to core.

#include "expected.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace paramlock::jsonfields {

/** A whole number in [lo, hi]; throws Failure naming the field otherwise. */
inline int64_t whole(const nlohmann::json &value, const std::string &what, int64_t lo, int64_t hi)
{
    if (!value.is_number_integer())
        throw Failure(what + " must be a whole number");
    if (value.is_number_unsigned() ? value.get<uint64_t>() > uint64_t(hi)
                                   : (value.get<int64_t>() < lo || value.get<int64_t>() > hi))
        throw Failure(what + " is out of range (" + std::to_string(lo) + " to " + std::to_string(hi) + ")");
    return value.get<int64_t>();
}

/** A non-negative whole number up to 2^64 - 1 (seeds). */
inline uint64_t unsignedWhole(const nlohmann::json &value, const std::string &what)
{
    if (!value.is_number_unsigned())
        throw Failure(what + " must be a non-negative whole number");
    return value.get<uint64_t>();
}

/** The field `name` of `object`, or `fallback` when absent. */
inline int64_t wholeOr(const nlohmann::json &object, const char *name, int64_t fallback, int64_t lo, int64_t hi)
{
    return object.contains(name) ? whole(object.at(name), name, lo, hi) : fallback;
}

/** The string field `name` of `object`, or `fallback` when absent or not a string (never throws). */
inline std::string stringOr(const nlohmann::json &object, const char *name, const std::string &fallback = {})
{
    if (!object.is_object())
        return fallback;
    const auto it = object.find(name);
    return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

} // namespace paramlock::jsonfields
