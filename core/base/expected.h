#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace paramlock {

/** The error every core function reports: a message a user can act on. */
struct Error
{
    std::string message;
};

/** Thrown inside core and turned into an Error at the public boundary. */
class Failure : public std::runtime_error
{
public:
    explicit Failure(const std::string &message) : std::runtime_error(message) { }
};

/** A value or an Error: how results cross the core boundary. */
template<typename T> class Expected
{
public:
    Expected(T value) : m_state(std::move(value)) { }
    Expected(Error error) : m_state(std::move(error)) { }

    bool ok() const { return std::holds_alternative<T>(m_state); }
    explicit operator bool() const { return ok(); }

    T &value() { return std::get<T>(m_state); }
    const T &value() const { return std::get<T>(m_state); }
    T &operator*() { return value(); }
    const T &operator*() const { return value(); }
    T *operator->() { return &value(); }
    const T *operator->() const { return &value(); }

    const std::string &error() const { return std::get<Error>(m_state).message; }

private:
    std::variant<T, Error> m_state;
};

/** Expected<void>: success, or an Error. */
template<> class Expected<void>
{
public:
    Expected() = default;
    Expected(Error error) : m_error(std::move(error.message)) { }

    bool ok() const { return !m_error.has_value(); }
    explicit operator bool() const { return ok(); }
    const std::string &error() const { return *m_error; }

private:
    std::optional<std::string> m_error;
};

} // namespace paramlock
