#include "analysispage.h"
#include "frontierpage.h"
#include "fingerprintpage.h"
#include "licencepage.h"
#include "mainwindow.h"

#include "process.h"
#include "version.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QTabWidget>
#include <QTimer>

#include <memory>

int main(int argc, char *argv[])
{
    paramlock::prepareProcess(argv);
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
    const QCommandLineOption set(QStringLiteral("set"),
        QStringLiteral("With --demo: one of the lock method's settings, as on the command line (e.g. mode=paper); "
                       "may be repeated."),
        QStringLiteral("NAME=VALUE"));
    const QCommandLineOption present(QStringLiteral("present"),
        QStringLiteral("With --run, --licence or --fingerprint: open the presentation once the work is done."));
    const QCommandLineOption attacks(QStringLiteral("attacks"),
        QStringLiteral("With --run: run these analyses on the Attacks & Report page once the lock is done "
                       "(comma-separated, e.g. prune,adaptive)."),
        QStringLiteral("LIST"));
    const QCommandLineOption method(QStringLiteral("method"),
        QStringLiteral("With --demo: the lock method (e.g. nnsplitter; default: the first in the method list)."),
        QStringLiteral("ID"));
    const QCommandLineOption frontier(QStringLiteral("frontier"),
        QStringLiteral("With --demo: compare every lock on the demo model once the data is read (Choose a Lock)."));
    const QCommandLineOption licence(QStringLiteral("licence"),
        QStringLiteral("With --demo: license a copy of the demo model once the data is read (Licences)."));
    const QCommandLineOption fingerprint(QStringLiteral("fingerprint"),
        QStringLiteral("With --demo: embed user fingerprints in a copy of the demo model once the data is read "
                       "(Fingerprints)."));
    parser.addOptions({demo, run, unlock, method, set, present, attacks, frontier, licence, fingerprint});
    parser.addPositionalArgument(
        QStringLiteral("model"), QStringLiteral("A model file to open."), QStringLiteral("[model]"));
    parser.process(app);

    paramlock::MainWindow window;
    window.resize(1280, 800);
    window.show();
    if (parser.isSet(demo)) {
        window.tryDemo();
        if (parser.isSet(method) && !window.selectMethod(parser.value(method).toStdString()))
            qWarning("ignoring --method %s: no such method", qPrintable(parser.value(method)));
        for (const QString &assignment : parser.values(set)) {
            const qsizetype at = assignment.indexOf(QLatin1Char('='));
            if (at < 1 || !window.setParameter(assignment.left(at).toStdString(), assignment.mid(at + 1).toStdString()))
                qWarning("ignoring --set %s: no such setting or value", qPrintable(assignment));
        }
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
        if (parser.isSet(frontier))
            QObject::connect(&window, &paramlock::MainWindow::datasetLoaded, &window, [&window] {
                window.tabs()->setCurrentWidget(window.frontierPage());
                window.frontierPage()->run();
            });
        if (parser.isSet(licence))
            QObject::connect(&window, &paramlock::MainWindow::datasetLoaded, &window, [&window] {
                window.tabs()->setCurrentWidget(window.licencePage());
                window.licencePage()->run();
            });
        if (parser.isSet(licence) && parser.isSet(present))
            QObject::connect(window.licencePage(), &paramlock::LicencePage::finished, &window,
                [&window] { QTimer::singleShot(500, &window, [&window] { window.licencePage()->present(2); }); });
        if (parser.isSet(fingerprint))
            QObject::connect(&window, &paramlock::MainWindow::datasetLoaded, &window, [&window] {
                window.tabs()->setCurrentWidget(window.fingerprintPage());
                window.fingerprintPage()->run();
            });
        if (parser.isSet(fingerprint) && parser.isSet(present))
            QObject::connect(window.fingerprintPage(), &paramlock::FingerprintPage::finished, &window,
                [&window] { QTimer::singleShot(500, &window, [&window] { window.fingerprintPage()->present(1); }); });
        if (parser.isSet(run)) // once the dataset has been read in the background
            QObject::connect(&window, &paramlock::MainWindow::datasetLoaded, &window, [&window] { window.runLock(); });
    } else if (!parser.positionalArguments().isEmpty()) {
        window.openModel(parser.positionalArguments().first());
    }
    return app.exec();
}
