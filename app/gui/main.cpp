#include "analysispage.h"
#include "mainwindow.h"

#include "version.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QTabWidget>
#include <QTimer>

#include <memory>

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("ParamLock"));
    QApplication::setOrganizationName(QStringLiteral("ParamLock"));
    QApplication::setOrganizationDomain(QStringLiteral("paramlock.org"));
    QApplication::setApplicationVersion(QStringLiteral(PARAMLOCK_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("org.paramlock.ParamLock"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Lock trained neural networks with a secret key."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption demo(
        QStringLiteral("demo"), QStringLiteral("Open the shipped demo model and Fashion-MNIST."));
    const QCommandLineOption run(QStringLiteral("run"), QStringLiteral("With --demo: start locking at once."));
    const QCommandLineOption unlock(
        QStringLiteral("unlock"), QStringLiteral("With --run: unlock with the new key once the lock is done."));
    const QCommandLineOption mode(QStringLiteral("mode"), QStringLiteral("Lock mode: strong or paper."),
        QStringLiteral("MODE"), QStringLiteral("strong"));
    const QCommandLineOption samples(QStringLiteral("samples"), QStringLiteral("Encryption-set size (default 300)."),
        QStringLiteral("N"), QStringLiteral("300"));
    const QCommandLineOption present(
        QStringLiteral("present"), QStringLiteral("With --run: open the presentation once the lock is done."));
    const QCommandLineOption attacks(QStringLiteral("attacks"),
        QStringLiteral("With --run: run these analyses on the Attacks & Report page once the lock is done "
                       "(comma-separated, e.g. prune,adaptive)."),
        QStringLiteral("LIST"));
    parser.addOptions({demo, run, unlock, mode, samples, present, attacks});
    parser.addPositionalArgument(
        QStringLiteral("model"), QStringLiteral("A model file to open."), QStringLiteral("[model]"));
    parser.process(app);

    paramlock::MainWindow window;
    window.resize(1280, 800);
    window.show();
    if (parser.isSet(demo)) {
        window.tryDemo();
        window.setLockSettings(parser.value(mode), parser.value(samples).toInt());
        if (parser.isSet(present))
            QObject::connect(&window, &paramlock::MainWindow::lockFinished, &window,
                [&window] { QTimer::singleShot(500, &window, [&window] { window.present(1); }); });
        if (parser.isSet(unlock))
            QObject::connect(&window, &paramlock::MainWindow::lockFinished, &window,
                [&window] { QTimer::singleShot(1500, &window, [&window] { window.unlockInMemory(); }); });
        if (parser.isSet(attacks)) {
            auto queue = std::make_shared<QStringList>(parser.value(attacks).split(QLatin1Char(',')));
            auto next = [&window, queue] {
                if (queue->isEmpty())
                    return;
                window.tabs()->setCurrentWidget(window.analysisPage());
                window.analysisPage()->run(queue->takeFirst().trimmed());
            };
            QObject::connect(&window, &paramlock::MainWindow::lockFinished, &window, next);
            QObject::connect(window.analysisPage(), &paramlock::AnalysisPage::finished, &window, next);
        }
        if (parser.isSet(run)) {
            // Once the dataset has been read in the background.
            auto *poll = new QTimer(&window);
            QObject::connect(poll, &QTimer::timeout, &window, [&window, poll] {
                if (window.datasetReady()) {
                    poll->stop();
                    window.runLock();
                }
            });
            poll->start(100);
        }
    } else if (!parser.positionalArguments().isEmpty()) {
        window.openModel(parser.positionalArguments().first());
    }
    return app.exec();
}
