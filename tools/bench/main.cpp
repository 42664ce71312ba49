// paramlock-bench: times AdvParams' lock against its floor, evaluation against the raw forward pass, unlock, and the
// same lock in plain PyTorch, on one model in one run. A measurement tool beside the CLI; it links core only.
#include "cliutil.h"

#include "process.h"
#include "version.h"

#include <QCoreApplication>

#include <csignal>

namespace paramlock::cli {
int cmdBench(const QStringList &args);
}

int main(int argc, char *argv[])
{
    paramlock::prepareProcess(argv);
    std::signal(SIGXFSZ, SIG_IGN);
    paramlock::cli::installInterruptHandler();
    QCoreApplication application(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("paramlock-bench"));
    QCoreApplication::setApplicationVersion(QStringLiteral(PARAMLOCK_VERSION));
    return paramlock::cli::cmdBench(QCoreApplication::arguments());
}
