#include "advparams.h"
#include "lockworkflow.h"
#include "analysispage.h"
#include "fingerprintpage.h"
#include "frontierpage.h"
#include "licencepage.h"
#include "charts.h"
#include "atomicfile.h"
#include "keyprotectiondialog.h"
#include "layertablemodel.h"
#include "mainwindow.h"
#include "messagebar.h"
#include "presentationview.h"
#include "resultspage.h"
#include "lockdocument.h"
#include "sealedkey.h"
#include "text.h"

#include "../core/testmodels.h"

#include <QAbstractItemModelTester>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <qcustomplot.h>
#include <QtTest>

using namespace paramlock;
using namespace paramlock::testing;

namespace {

/** A lock's outcome as the presentation tells it: 90% before, 10% locked, two test images. */
LockOutcome storyOutcome()
{
    LockOutcome outcome;
    outcome.accuracyBefore = 0.9;
    outcome.accuracyAfter = 0.1;
    outcome.predictionsBefore = {0, 1};
    outcome.predictionsAfter = {1, 1};
    outcome.result.key.parameterCount = 1000;
    return outcome;
}

} // namespace

class TestMainWindow : public QObject
{
    Q_OBJECT

private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void layerTableModelIsAWellBehavedModel()
    {
        LayerTableModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        const Model lenet = *Model::create("lenet5", imageMeta(1, 28, 10), 1);
        model.setLayers(lenet.layers());
        QCOMPARE(model.rowCount(), 5);
        QCOMPARE(model.columnCount(), int(LayerTableModel::ColumnCount));
        QCOMPARE(model.data(model.index(2, LayerTableModel::Name)).toString(), QStringLiteral("fc1.weight"));
        QCOMPARE(model.data(model.index(2, LayerTableModel::Parameters), Qt::UserRole).toLongLong(), 48000LL);
        QCOMPARE(model.data(model.index(0, LayerTableModel::Shape)).toString(), QString::fromUtf8("6 × 1 × 5 × 5"));
        QSignalSpy changed(&model, &LayerTableModel::selectionChanged);
        QVERIFY(model.setData(model.index(4, LayerTableModel::Name), Qt::Checked, Qt::CheckStateRole));
        QVERIFY(model.setData(model.index(0, LayerTableModel::Name), Qt::Checked, Qt::CheckStateRole));
        QCOMPARE(model.checkedLayers(), (std::vector<std::string>{"conv1.weight", "fc3.weight"}));
        QCOMPARE(changed.count(), 2);
        QVERIFY(!model.setData(model.index(0, LayerTableModel::Min), 1.0, Qt::EditRole));
        QVERIFY(model.flags(model.index(0, LayerTableModel::Name)) & Qt::ItemIsUserCheckable);
    }

    void foreignKeyIsRefusedInTheBanner()
    {
        QTemporaryDir dir;
        const Model mine = *Model::create("lenet5", imageMeta(1, 28, 10), 1);
        const Model theirs = *Model::create("lenet5", imageMeta(1, 28, 10), 2);
        const std::string minePath = dir.filePath(QStringLiteral("mine.pt")).toStdString();
        QVERIFY(mine.save(minePath).ok());
        AdvParamsOptions options;
        options.settings.mode = LockMode::Paper;
        options.settings.layers = {"fc3.weight"};
        options.settings.maxIterations = 2;
        Progress quiet;
        auto theirLock = lockModel(theirs, randomImages(20, 1, 28, 10, 1), options, quiet);
        QVERIFY(theirLock.ok());
        const QString keyPath = dir.filePath(QStringLiteral("their-key.json"));
        QVERIFY(theirLock->key.save(keyPath.toStdString()).ok());

        MainWindow window;
        QVERIFY(window.openModel(QString::fromStdString(minePath)));
        QCOMPARE(window.layerModel()->rowCount(), 5);
        QSignalSpy checked(&window, &MainWindow::keyChecked);
        window.checkKey(keyPath);
        QTRY_COMPARE(checked.count(), 1);
        QVERIFY(window.messageBar()->isVisibleTo(&window));
        QCOMPARE(window.messageBar()->kind(), MessageBar::Kind::Error);
        QVERIFY2(window.messageBar()->text().contains(QLatin1String("different model")),
            qPrintable(window.messageBar()->text()));
    }

    void sealedKeyAsksForItsPassword()
    {
        QTemporaryDir dir;
        const Model mine = *Model::create("lenet5", imageMeta(1, 28, 10), 1);
        AdvParamsOptions options;
        options.settings.mode = LockMode::Paper;
        options.settings.layers = {"fc3.weight"};
        options.settings.maxIterations = 2;
        Progress quiet;
        auto lock = lockModel(mine, randomImages(20, 1, 28, 10, 1), options, quiet);
        QVERIFY2(lock.ok(), lock.ok() ? "" : lock.error().c_str());
        const QString lockedPath = dir.filePath(QStringLiteral("locked.pt"));
        QVERIFY(lock->locked.save(lockedPath.toStdString()).ok());
        auto sealed = sealKey(lock->key, "open sesame", "bob", KdfStrength{1, 8192});
        QVERIFY(sealed.ok());
        const QString keyPath = dir.filePath(QStringLiteral("bob.key"));
        QVERIFY(writeFileAtomically(keyPath.toStdString(), *sealed).ok());

        MainWindow window;
        QVERIFY(window.openModel(lockedPath));
        QSignalSpy checked(&window, &MainWindow::keyChecked);
        window.checkKey(keyPath, QStringLiteral("open sesame?"));
        QTRY_COMPARE(checked.count(), 1);
        QCOMPARE(window.messageBar()->kind(), MessageBar::Kind::Error);
        QVERIFY2(window.messageBar()->text().contains(QLatin1String("Wrong password")),
            qPrintable(window.messageBar()->text()));
        window.checkKey(keyPath, QStringLiteral("open sesame"));
        QTRY_COMPARE(checked.count(), 2);
        QCOMPARE(window.messageBar()->kind(), MessageBar::Kind::Success);
        QVERIFY(window.messageBar()->text().contains(QLatin1String("fits")));
    }

    void keyDialogNeedsMatchingPasswordsOrAnExplicitChoice()
    {
        KeyProtectionDialog dialog;
        QVERIFY(!dialog.canAccept());
        dialog.setPasswords(QStringLiteral("correct horse"), QStringLiteral("correct hose"));
        QVERIFY(!dialog.canAccept());
        dialog.setPasswords(QStringLiteral("correct horse"), QStringLiteral("correct horse"));
        QVERIFY(dialog.canAccept());
        QCOMPARE(dialog.password(), QStringLiteral("correct horse"));
        dialog.setPasswords({}, {});
        dialog.setUnprotected(true);
        QVERIFY(dialog.canAccept());
        QVERIFY(dialog.password().isEmpty());
    }

    void analysisPageRunsAttacksAndExportsAReport()
    {
        const Model original = *Model::create("lenet5", imageMeta(1, 28, 10), 1);
        const Dataset train = randomImages(60, 1, 28, 10, 1);
        const Dataset test = randomImages(40, 1, 28, 10, 2);
        AdvParamsOptions options;
        options.settings.mode = LockMode::Paper;
        options.settings.layers = {"fc3.weight"};
        options.settings.maxIterations = 3;
        options.settings.samples = 20;
        Progress quiet;
        auto lock = lockModel(original, train.subset(*sampleIndices(train, {20, 0, false})), options, quiet);
        QVERIFY(lock.ok());
        auto outcome = std::make_shared<LockOutcome>();
        outcome->result = *lock;
        outcome->accuracyBefore = 0.5;
        outcome->accuracyAfter = 0.1;
        outcome->testSamples = test.size();

        AnalysisPage page;
        page.setLock(original, outcome, std::make_shared<const Dataset>(train), std::make_shared<const Dataset>(test),
            QStringLiteral("tiny.pt"));
        page.setEvaluationLimit(0);
        QSignalSpy done(&page, &AnalysisPage::finished);
        QSignalSpy failed(&page, &AnalysisPage::failed);
        page.run(QStringLiteral("prune"));
        QVERIFY(page.isRunning());
        QVERIFY(done.wait(60000));
        QCOMPARE(failed.count(), 0);
        QCOMPARE(page.results().size(), size_t(1));
        // Ten pruning rates, each scored; 0% pruning leaves the locked model as it is.
        const Analysis &prune = page.results()[0];
        QCOMPARE(prune.rows.size(), size_t(10));
        QCOMPARE(prune.rows[0][0], std::string("0%"));
        QCOMPARE(page.chart()->title(), QString::fromStdString(prune.title));
        QVERIFY(page.chart()->csv().startsWith(QStringLiteral("conv/FC weights pruned, smallest magnitude first (%)")));
        page.run(QStringLiteral("detect"));
        QVERIFY(done.wait(60000));
        QCOMPARE(page.results().size(), size_t(2));

        QTemporaryDir dir;
        const QString html = dir.filePath(QStringLiteral("report.html"));
        auto written = page.exportReport(html);
        QVERIFY2(written.ok(), written.ok() ? "" : written.error().c_str());
        QFile h(html), pdf(dir.filePath(QStringLiteral("report.pdf")));
        QVERIFY(h.open(QIODevice::ReadOnly) && pdf.open(QIODevice::ReadOnly));
        const QByteArray text = h.readAll();
        QVERIFY(text.contains("Pruning attack"));
        QVERIFY(text.contains(QByteArray::fromStdString(lock->key.lockedFingerprint)));
        QCOMPARE(text.count("data:image/png;base64,"), 4); // Fig. 3, Fig. 4 and the two analyses
        QVERIFY(pdf.read(4) == "%PDF");
        // No key material: no perturbation value and no key checksum appear anywhere.
        QVERIFY(!text.contains(QByteArray::fromStdString(lock->key.checksum())));
        for (const KeyEntry &e : lock->secret.entries)
            QVERIFY(!text.contains(QByteArray::number(e.perturbation, 'g', 17)));
    }

    void theFrontierPageComparesLocksAndCancels()
    {
        const Dataset train = blockImages(200, 1);
        const Dataset test = blockImages(100, 2);
        const Model original = trainedLeNet(train, 3);
        const std::string fingerprint = original.fingerprint();
        LockDocument document;
        FrontierPage page(&document);
        QPushButton *compare = nullptr;
        for (QPushButton *b : page.findChildren<QPushButton *>())
            if (b->text() == QLatin1String("Compare Locks"))
                compare = b;
        QVERIFY(compare && !compare->isEnabled()); // no model yet
        document.setModel(original, QStringLiteral("lenet.pt"));
        document.setDataset(std::make_shared<const Dataset>(train), std::make_shared<const Dataset>(test));
        QVERIFY(compare->isEnabled());
        FrontierOptions options;
        const std::string first = original.layers().front().name;
        FrontierCandidate some{"dense", "Dense lock, first layer", "first layer", {}};
        some.request.values.set("layers", LayerSelection{LayerSelection::Kind::Named, 0, {first}});
        options.candidates = {some, {"dense", "Dense lock, all layers", "all layers", {}}};
        options.advantage.settings = {{"adam", 0.01}};
        options.advantage.steps = 10;
        options.advantage.minEpochs = 1;
        options.advantage.maxEpochs = 3;
        options.advantage.checkpoints = 1;
        page.setOptions(options);
        page.setThiefImages(100);
        page.setEvaluationLimit(0);
        QSignalSpy done(&page, &FrontierPage::finished);
        QSignalSpy failed(&page, &FrontierPage::failed);
        page.run();
        QVERIFY(page.isRunning());
        QVERIFY(done.wait(120000));
        QCOMPARE(failed.count(), 0);
        QVERIFY(page.result());
        QCOMPARE(page.result()->points.size(), size_t(2));
        QCOMPARE(page.table()->rowCount(), 2);
        // The dense lock draws its secret at random (up to five, for one that leaves at most 1.2 x random guess on
        // the training images): on this tiny task a run can stay weak on the test images, and the table says so.
        QCOMPARE(page.table()->item(1, 0)->text(),
            QStringLiteral("Dense lock, all layers")
                + (page.result()->points[1].weakness.empty() ? QString() : QStringLiteral(" (weak)")));
        QCOMPARE(page.weightsChart()->pointCount(), 2);
        QCOMPARE(page.stealthChart()->pointCount(), 2);
        QVERIFY(page.weightsChart()->csv().contains(QStringLiteral("\"Dense lock, first layer\"")));
        QCOMPARE(original.fingerprint(), fingerprint);

        // Cancelled at once (this comparison is so small that it can finish within 200 ms): a message, the model as
        // it was.
        page.run();
        QVERIFY(page.isRunning());
        page.cancel();
        QVERIFY(failed.wait(60000));
        QVERIFY(failed.last().at(0).toString().contains(QLatin1String("cancelled")));
        QCOMPARE(original.fingerprint(), fingerprint);
        // Another model: the comparison of the previous one is dropped.
        document.setModel(Model(), QString());
        QVERIFY(!page.result());
        QCOMPARE(page.table()->rowCount(), 0);
    }

    void theFingerprintPageEmbedsVerifiesAndCancels()
    {
        const Dataset train = blockImages(2000, 1);
        const Dataset test = blockImages(100, 2);
        const Model original = trainedLeNet(train, 3);
        const std::string fingerprint = original.fingerprint();
        LockDocument document;
        FingerprintPage page(&document);
        QPushButton *embed = nullptr, *verify = nullptr;
        for (QPushButton *b : page.findChildren<QPushButton *>()) {
            if (b->text() == QLatin1String("Embed Fingerprints"))
                embed = b;
            if (b->text().startsWith(QLatin1String("Verify a Suspect")))
                verify = b;
        }
        QVERIFY(embed && !embed->isEnabled()); // no model yet
        QVERIFY(verify && !verify->isEnabled()); // no registry yet
        document.setModel(original, QStringLiteral("lenet.pt"));
        document.setDataset(std::make_shared<const Dataset>(train), std::make_shared<const Dataset>(test));
        QVERIFY(embed->isEnabled());

        page.setUsers(QStringLiteral("alice; bob; carol"));
        page.setEpochs(20);
        page.setTrainImages(1600);
        QSignalSpy done(&page, &FingerprintPage::finished);
        QSignalSpy failed(&page, &FingerprintPage::failed);
        page.run();
        QVERIFY(page.isRunning());
        QVERIFY(done.wait(180000));
        QCOMPARE(failed.count(), 0);
        const FingerprintDemo *demo = page.result();
        QVERIFY(demo);
        QCOMPARE(demo->marked.users.size(), size_t(3));
        QVERIFY2(demo->marked.owner.rate > demo->original.owner.rate + 0.5,
            qPrintable(QStringLiteral("%1 vs %2").arg(demo->marked.owner.rate).arg(demo->original.owner.rate)));
        QVERIFY(verify->isEnabled());
        auto *table = page.findChild<QTableWidget *>();
        QVERIFY(table);
        QCOMPARE(table->rowCount(), 3);
        QCOMPARE(table->item(1, 0)->text(), QStringLiteral("bob"));
        int pictures = 0;
        for (QLabel *l : page.findChildren<QLabel *>())
            pictures += !l->pixmap().isNull();
        QCOMPARE(pictures, 2); // the owner's trigger and the first user's fingerprint
        auto *chart = page.findChild<AnalysisChart *>();
        QVERIFY(chart);
        QCPBars *bars = nullptr;
        for (int i = 0; i < chart->plot()->plottableCount(); ++i)
            if (auto *b = qobject_cast<QCPBars *>(chart->plot()->plottable(i)))
                bars = b;
        QVERIFY(bars); // beside the acceptance threshold's line
        QCOMPARE(bars->dataCount(), 1 + 3 + 10); // owner, users, forged
        QCOMPARE(original.fingerprint(), fingerprint);

        // The presentation: accuracy kept, the owner's trigger, the first user's fingerprint, the forgeries, each
        // with the figures the checks measured and the fingerprinted model's answers for stamped carriers.
        const std::vector<PresentationSlide> story = fingerprintStory(*demo);
        QCOMPARE(story.size(), size_t(4));
        QCOMPARE(story[0].figure, percentString(demo->markedAccuracy, 1, true));
        QCOMPARE(story[1].figure, percentString(demo->marked.owner.rate, 1, true));
        QCOMPARE(story[1].images.size(), int64_t(6));
        QCOMPARE(story[1].answers, demo->ownerAnswers);
        QCOMPARE(story[1].expected, std::vector<int32_t>(6, 0)); // the target class counts as right
        QVERIFY(story[1].images.pixels != firstImages(demo->embedding.decoded.carriers, 6).pixels); // stamped
        QVERIFY(story[2].images.pixels != story[1].images.pixels); // five signals, not all sixteen
        QCOMPARE(story[2].answers, demo->userAnswers);
        double bestForged = 0.0;
        for (const Detection &d : demo->marked.forged)
            bestForged = std::max(bestForged, d.rate);
        QCOMPARE(story[3].figure, percentString(bestForged, 1, true));
        PresentationView presentation(story);
        QCOMPARE(presentation.pageCount(), 4);

        // A suspect model file: the original, which never learnt the fingerprints.
        QTemporaryDir dir;
        const QString suspect = dir.filePath(QStringLiteral("suspect.pt"));
        QVERIFY(original.save(suspect.toStdString()).ok());
        QSignalSpy verified(&page, &FingerprintPage::verified);
        page.verify(suspect);
        QVERIFY(verified.wait(60000));
        QVERIFY(page.shownReport());
        QVERIFY(page.shownReport()->matches.empty());
        QCOMPARE(page.shownReport()->owner.rate, demo->original.owner.rate);

        // Cancelled half-way: a message, the model as it was.
        page.run();
        QVERIFY(page.isRunning());
        QTest::qWait(200);
        page.cancel();
        QVERIFY(failed.wait(60000));
        QVERIFY(failed.last().at(0).toString().contains(QLatin1String("cancelled")));
        QCOMPARE(original.fingerprint(), fingerprint);
        document.setModel(Model(), QString());
        QVERIFY(!page.result());
    }

    void theLicencePageLicensesACopyAndCancels()
    {
        const Dataset train = blockImages(2000, 1);
        const Dataset test = blockImages(100, 2);
        const Model original = trainedLeNet(train, 3);
        const std::string fingerprint = original.fingerprint();
        LockDocument document;
        LicencePage page(&document);
        QPushButton *license = nullptr;
        for (QPushButton *b : page.findChildren<QPushButton *>())
            if (b->text() == QLatin1String("License a Copy"))
                license = b;
        QVERIFY(license && !license->isEnabled()); // no model yet
        document.setModel(original, QStringLiteral("lenet.pt"));
        document.setDataset(std::make_shared<const Dataset>(train), std::make_shared<const Dataset>(test));
        QVERIFY(license->isEnabled());

        // A licensee the model cannot have is refused before anything runs.
        page.setLicensees(QStringLiteral("alice; bob:classes=0-12"));
        page.run();
        QVERIFY(!page.isRunning());
        bool said = false;
        for (QLabel *l : page.findChildren<QLabel *>())
            said = said || l->text().contains(QLatin1String("between 0 and 9"));
        QVERIFY(said);

        page.setLicensees(QStringLiteral("alice; bob:classes=0-4"));
        page.setSecretSeed(2); // a fixed owner secret (here 1.00 vs 0.20): a fresh one refused only 71% once in CI
        page.setEpochs(25);
        page.setTrainImages(1600);
        QSignalSpy done(&page, &LicencePage::finished);
        QSignalSpy failed(&page, &LicencePage::failed);
        page.run();
        QVERIFY(page.isRunning());
        QVERIFY(done.wait(120000));
        QCOMPARE(failed.count(), 0);
        const LicenceDemo *demo = page.result();
        QVERIFY(demo);
        QCOMPARE(demo->licence.licensee.id, std::string("alice"));
        QVERIFY2(demo->withLicence > demo->withoutLicence + 0.3,
            (std::to_string(demo->withLicence) + " vs " + std::to_string(demo->withoutLicence) + ": "
                + demo->lock.notes.front() + "; " + demo->lock.notes.at(1))
                .c_str());
        QCOMPARE(demo->with.size(), size_t(16));
        QCOMPARE(demo->originalOnScheme, demo->original); // alice answers every class: the same measure
        // Every licensee in a table, beside the original scored as their licence is (bob: classes 0-4 only).
        const auto table = page.findChild<QTableWidget *>();
        QVERIFY(table && table->isVisibleTo(&page));
        QCOMPARE(table->rowCount(), 2);
        QCOMPARE(table->item(0, 0)->text(), QStringLiteral("alice"));
        QCOMPARE(table->item(1, 0)->text(), QStringLiteral("bob"));
        QCOMPARE(demo->licensees.size(), size_t(2));
        const LicenseeMeasure &bob = demo->licensees[1];
        QCOMPARE(bob.original, schemeAccuracies(original, {bob.licensee}, test)->front());
        QCOMPARE(bob.check.licensed,
            checkLicence(demo->lock.licensed, *Licence::of(*issueLicence(demo->lock.registry, "bob")), test)->licensed);
        QCOMPARE(table->item(1, 4)->text(), QString::number(100.0 * (bob.check.licensed - bob.original), 'f', 2));
        QCOMPARE(demo->licensees[0].original, demo->original);
        int pictures = 0;
        for (QLabel *l : page.findChildren<QLabel *>())
            pictures += !l->pixmap().isNull();
        QCOMPARE(pictures, 3 * 8 + 1); // three rows of eight test images and the pattern
        QCOMPARE(original.fingerprint(), fingerprint);

        // The presentation: the original, without a licence, with alice's (its pattern and stamped images), forged.
        const std::vector<PresentationSlide> story = licenceStory(*demo, test);
        QCOMPARE(story.size(), size_t(4));
        QCOMPARE(story[0].answers, demo->originalAnswers);
        QCOMPARE(story[1].figure, percentString(demo->withoutLicence, 1, true));
        QCOMPARE(story[1].answers, demo->without);
        QCOMPARE(story[2].figure, percentString(demo->withLicence, 1, true));
        QCOMPARE(story[2].answers, demo->with);
        QVERIFY(!story[2].picture.isNull());
        QCOMPARE(story[2].images.size(), story[1].images.size());
        QVERIFY(story[2].images.pixels != story[1].images.pixels); // stamped with the licence
        QVERIFY(story[3].images.pixels != story[2].images.pixels); // another pattern
        QCOMPARE(story[3].figure, percentString(demo->withForged, 1, true));
        PresentationView presentation(story);
        QCOMPARE(presentation.pageCount(), 4);

        // Cancelled half-way: a message, the model as it was.
        page.run();
        QVERIFY(page.isRunning());
        QTest::qWait(200);
        page.cancel();
        QVERIFY(failed.wait(60000));
        QVERIFY(failed.last().at(0).toString().contains(QLatin1String("cancelled")));
        QCOMPARE(original.fingerprint(), fingerprint);
        document.setModel(Model(), QString());
        QVERIFY(!page.result());
    }

    void presentationStepsThroughTheStory()
    {
        const LockOutcome outcome = storyOutcome();
        const Dataset test = randomImages(2, 1, 4, 2, 1);
        PresentationView view(outcome, test, 0.9);
        QCOMPARE(view.pageCount(), 3);
        QCOMPARE(view.currentPage(), 0);
        QTest::keyClick(&view, Qt::Key_Right);
        QCOMPARE(view.currentPage(), 1);
        view.next();
        view.next(); // stays on the last page
        QCOMPARE(view.currentPage(), 2);
        QTest::keyClick(&view, Qt::Key_Left);
        QCOMPARE(view.currentPage(), 1);
        bool lockedFigure = false;
        for (QLabel *label : view.findChildren<QLabel *>())
            lockedFigure = lockedFigure || label->text() == QStringLiteral("10.0 %");
        QVERIFY(lockedFigure);
    }

    void theProtectionLevelEndsThePresentationWhenMeasured()
    {
        const LockOutcome outcome = storyOutcome();
        const Dataset test = randomImages(2, 1, 4, 2, 1);
        const QString level = QStringLiteral("With 1,000 labelled images a thief gets 80.7% from it.");
        PresentationView view(outcome, test, 0.9, level);
        QCOMPARE(view.pageCount(), 4);
        bool shown = false;
        for (QLabel *label : view.findChildren<QLabel *>())
            shown = shown || label->text() == level;
        QVERIFY(shown);
        // The results page says it is not measured, then shows the level the document receives.
        LockDocument document;
        ResultsPage page(&document);
        const auto text = [&page] {
            QString all;
            for (QLabel *label : page.findChildren<QLabel *>())
                all += label->text();
            return all;
        };
        QVERIFY(text().contains(QLatin1String("not measured yet")));
        document.setProtectionLevel(level);
        QVERIFY(text().contains(level));
        document.setModel(Model(), QString()); // another model: measured again
        QVERIFY(text().contains(QLatin1String("not measured yet")));
    }

    void corruptModelIsReportedInline()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("junk.pt"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("junk");
        f.close();
        MainWindow window;
        QVERIFY(!window.openModel(path));
        QCOMPARE(window.messageBar()->kind(), MessageBar::Kind::Error);
        QVERIFY(window.messageBar()->text().contains(QLatin1String("not a TorchScript model")));
    }
};

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
