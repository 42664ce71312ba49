#include "cliutil.h"
#include "commands.h"

#include "protectionmethod.h"

#include <QApplication>
#include <QCoreApplication>
#include <QTextStream>

#include "process.h"
#include "version.h"

#include <csignal>
#include <memory>
#include <string>

int main(int argc, char *argv[])
{
    // Commands that only read or write small files start without the second load of LibTorch that passive OpenMP
    // waiting costs (see prepareProcess).
    const std::string first = argc > 1 ? argv[1] : "";
    const bool light = first.empty() || first == "--version" || first == "-v" || first == "--help" || first == "-h"
        || first == "help" || first == "info" || first == "key" || first == "verify";
    paramlock::prepareProcess(argv, !light);
    // A file-size limit or a full disk must fail a write with an error message, not kill the process.
    std::signal(SIGXFSZ, SIG_IGN);
    paramlock::cli::installInterruptHandler();
    // `report` renders charts (widgets) off screen; everything else needs no GUI at all.
    const bool widgets = argc > 1 && std::string(argv[1]) == "report";
    if (widgets && qEnvironmentVariableIsEmpty("DISPLAY") && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY")
        && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    std::unique_ptr<QCoreApplication> application =
        widgets ? std::make_unique<QApplication>(argc, argv) : std::make_unique<QCoreApplication>(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("paramlock-cli"));
    QCoreApplication::setOrganizationName(QStringLiteral("ParamLock"));
    QCoreApplication::setApplicationVersion(QStringLiteral(PARAMLOCK_VERSION));

    const QStringList args = QCoreApplication::arguments();
    QTextStream out(stdout);
    if (args.size() < 2 || args[1] == QLatin1String("--help") || args[1] == QLatin1String("-h")
        || args[1] == QLatin1String("help")) {
        out << "Usage: paramlock-cli COMMAND [options]\n\n"
               "Locks trained neural networks so that only key holders can use them.\n\nMethods:\n";
        for (const paramlock::ProtectionMethod *m : paramlock::methods())
            out << "  " << QString::fromStdString(m->id()).leftJustified(10) << " "
                << QString::fromStdString(m->summary()) << "\n";
        out << "\nCommands:\n"
            << paramlock::cli::commandSummary() << "\nRun 'paramlock-cli COMMAND --help' for a command's options.\n";
        return args.size() < 2 ? 2 : 0;
    }
    if (args[1] == QLatin1String("--version") || args[1] == QLatin1String("-v")) {
        out << "paramlock-cli " << PARAMLOCK_VERSION << "\n";
        return 0;
    }
    QStringList rest = args;
    const QString command = rest.takeAt(1);
    rest[0] = rest[0] + QLatin1Char(' ') + command;
    return paramlock::cli::runCommand(command, rest);
}
