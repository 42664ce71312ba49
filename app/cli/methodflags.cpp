#include "methodflags.h"

#include "cliutil.h"

#include <QStringList>

namespace paramlock::cli {

namespace {

QString describe(const ParameterSpec &spec, const ProtectionMethod &method)
{
    QString text = QString::fromStdString(spec.label) + QStringLiteral(": ") + QString::fromStdString(spec.help);
    QStringList notes;
    if (!spec.unit.empty())
        notes << QString::fromStdString(spec.unit);
    const bool zero = meansZeroSetting(spec, spec.defaultValue);
    if (spec.type == ParameterType::Layers)
        notes << QStringLiteral("default: by mode");
    else if (spec.type != ParameterType::Flag)
        notes << QStringLiteral("default ")
                + QString::fromStdString(zero ? spec.zeroMeans : parameterText(spec, spec.defaultValue));
    if (!spec.modes.empty()) {
        QStringList modes;
        for (const auto &m : spec.modes)
            modes << QString::fromStdString(m);
        notes << modes.join(QStringLiteral(", ")) + QStringLiteral(" mode");
    }
    if (methods().size() > 1)
        notes << QString::fromStdString(method.name());
    return text + QStringLiteral(" (") + notes.join(QStringLiteral("; ")) + QLatin1Char(')');
}

QString placeholder(const ParameterSpec &spec)
{
    switch (spec.type) {
    case ParameterType::Integer:
        return QStringLiteral("N");
    case ParameterType::Choice:
        return QString::fromStdString(spec.name).toUpper();
    case ParameterType::Layers:
        return QStringLiteral("LIST");
    default:
        return QStringLiteral("X");
    }
}

} // namespace

MethodFlags::MethodFlags()
    : m_method(QStringLiteral("method"),
        QStringLiteral("Protection method: %1 (default %2).")
            .arg(QString::fromStdString(methodIds(Capability::Lock)), QString::fromStdString(defaultMethod().id())),
        QStringLiteral("ID"))
{
    auto known = [this](const std::string &parameter) {
        for (const Flag &f : m_flags)
            if (f.parameter == parameter)
                return true;
        return false;
    };
    for (const ProtectionMethod *method : methods()) {
        if (!method->can(Capability::Lock))
            continue;
        for (const ParameterSpec &spec : method->parameters()) {
            if (known(spec.name)) {
                // One flag per name; each method reads it against its own spec, and the help says what it is to each.
                for (Flag &f : m_flags)
                    if (f.parameter == spec.name && f.role != Role::RandomLayers && f.role != Role::AllLayers)
                        f.option.setDescription(
                            f.option.description() + QStringLiteral(" — ") + describe(spec, *method));
                continue;
            }
            const QString name = QString::fromStdString(spec.name);
            const QString help = describe(spec, *method);
            switch (spec.type) {
            case ParameterType::Flag:
                if (std::get<bool>(spec.defaultValue))
                    m_flags.push_back({spec.name, Role::Off,
                        QCommandLineOption(QStringLiteral("no-") + name, help + QStringLiteral(" Turns it off."))});
                else
                    m_flags.push_back({spec.name, Role::On, QCommandLineOption(name, help)});
                break;
            case ParameterType::Layers:
                m_flags.push_back({spec.name, Role::Value,
                    QCommandLineOption(
                        name, help + QStringLiteral(" Comma-separated names (from 'info')."), placeholder(spec))});
                m_flags.push_back({spec.name, Role::RandomLayers,
                    QCommandLineOption(QStringLiteral("random-") + name,
                        QStringLiteral("Take K %1 drawn with the seed.").arg(name), QStringLiteral("K"))});
                m_flags.push_back({spec.name, Role::AllLayers,
                    QCommandLineOption(QStringLiteral("all-") + name, QStringLiteral("Take all %1.").arg(name))});
                break;
            default:
                m_flags.push_back({spec.name, Role::Value, QCommandLineOption(name, help, placeholder(spec))});
            }
        }
    }
}

QList<QCommandLineOption> MethodFlags::options() const
{
    QList<QCommandLineOption> list = {m_method};
    for (const Flag &f : m_flags)
        list << f.option;
    return list;
}

bool MethodFlags::isSet(const QCommandLineParser &p, const std::string &name) const
{
    for (const Flag &f : m_flags)
        if (f.parameter == name && p.isSet(f.option))
            return true;
    return false;
}

Expected<MethodFlags::Choice> MethodFlags::read(const QCommandLineParser &p) const
{
    Choice choice;
    choice.method = &defaultMethod();
    if (p.isSet(m_method)) {
        const std::string id = p.value(m_method).toStdString();
        choice.method = methodById(id);
        if (!choice.method || !choice.method->can(Capability::Lock))
            return Error{"unknown method \"" + id + "\" (available: " + methodIds(Capability::Lock) + ")"};
    }
    int64_t seed = 0;
    if (!toInt64(p.value(kSeed), seed) || seed < 0)
        return Error{"--seed expects a whole number >= 0"};
    choice.request.seed = uint64_t(seed);
    const auto &table = choice.method->parameters();
    for (const Flag &f : m_flags) {
        if (!p.isSet(f.option))
            continue;
        const std::string flag = "--" + f.option.names().first().toStdString();
        const ParameterSpec *spec = findParameter(table, f.parameter);
        if (!spec)
            return Error{flag + " is not a setting of " + choice.method->name()
                + " (run 'paramlock-cli lock --help' for each method's settings)"};
        if (choice.request.values.has(f.parameter) && spec->type == ParameterType::Layers)
            return Error{"give one of --" + spec->name + ", --random-" + spec->name + " and --all-" + spec->name};
        Expected<ParameterValue> value = Error{""};
        switch (f.role) {
        case Role::Value:
            value = parseParameter(*spec, p.value(f.option).toStdString());
            break;
        case Role::On:
            value = ParameterValue(true);
            break;
        case Role::Off:
            value = ParameterValue(false);
            break;
        case Role::RandomLayers:
            value = parseParameter(*spec, "random " + p.value(f.option).toStdString());
            break;
        case Role::AllLayers:
            value = parseParameter(*spec, "all");
            break;
        }
        if (!value)
            return Error{value.error()};
        choice.request.values.set(f.parameter, *value);
    }
    if (auto ok = choice.method->validate(choice.request); !ok)
        return Error{ok.error()};
    return choice;
}

} // namespace paramlock::cli
