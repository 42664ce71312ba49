#include "mainwindow.h"

#include "version.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("ParamLock"));
    QApplication::setOrganizationName(QStringLiteral("ParamLock"));
    QApplication::setOrganizationDomain(QStringLiteral("paramlock.example.org"));
    QApplication::setApplicationVersion(QStringLiteral(PARAMLOCK_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("org.example.ParamLock"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Lock trained neural networks with a secret key."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption demo(
        QStringLiteral("demo"), QStringLiteral("Open the shipped demo model and Fashion-MNIST."));
    const QCommandLineOption run(QStringLiteral("run"), QStringLiteral("With --demo: start locking at once."));
    parser.addOptions({demo, run});
    parser.addPositionalArgument(
        QStringLiteral("model"), QStringLiteral("A model file to open."), QStringLiteral("[model]"));
    parser.process(app);

    paramlock::MainWindow window;
    window.resize(1280, 800);
    window.show();
    if (parser.isSet(demo)) {
        window.tryDemo();
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
