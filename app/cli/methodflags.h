#pragma once

// The lock flags of every method, made from the methods' parameter tables: --method, then each parameter once,
// read and range-checked in one place.

#include "protectionmethod.h"

#include <QCommandLineOption>
#include <QCommandLineParser>

#include <string>
#include <vector>

namespace paramlock::cli {

class MethodFlags
{
public:
    MethodFlags();

    /** --method and every method's parameter flags. */
    QList<QCommandLineOption> options() const;
    /** Whether the user set the parameter `name` of the chosen method on the command line. */
    bool isSet(const QCommandLineParser &p, const std::string &name) const;

    struct Choice
    {
        const ProtectionMethod *method = nullptr;
        LockRequest request;
    };
    /** The method --method names (or the default) and the request the flags and --seed make; errors name the flag. */
    Expected<Choice> read(const QCommandLineParser &p) const;

private:
    enum class Role { Value, On, Off, RandomLayers, AllLayers };
    struct Flag
    {
        std::string parameter;
        Role role = Role::Value;
        QCommandLineOption option;
    };
    QCommandLineOption m_method;
    std::vector<Flag> m_flags;
};

} // namespace paramlock::cli
