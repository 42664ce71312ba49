#include "mainwindow.h"

#include "analysispage.h"
#include "frontierpage.h"
#include "fingerprintpage.h"
#include "licencepage.h"
#include "imagedecoding.h"
#include "job.h"
#include "keyprotectiondialog.h"
#include "layertablemodel.h"
#include "lockdocument.h"
#include "lockjob.h"
#include "lockpage.h"
#include "messagebar.h"
#include "presentationview.h"
#include "resources.h"
#include "resultspage.h"
#include "sealedkey.h"
#include "text.h"
#include "unlock.h"
#include "unlockpage.h"
#include "version.h"

#include <QAction>
#include <QCloseEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QToolBar>
#include <QVBoxLayout>

namespace paramlock {

namespace {

QPixmap imageOf(const Dataset &data, int64_t index, int side)
{
    return QPixmap::fromImage(
        datasetImage(data, index).scaled(side, side, Qt::KeepAspectRatio, Qt::FastTransformation));
}

} // namespace

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent), m_document(new LockDocument(this)), m_messages(new MessageBar(this)),
      m_tabs(new QTabWidget(this)), m_layers(new LayerTableModel(this)), m_files(new Job(this))
{
    setWindowTitle(tr("ParamLock"));
    setAcceptDrops(true);

    m_lockPage = new LockPage(m_document, m_layers, m_messages, m_tabs);
    m_results = new ResultsPage(m_document, m_tabs);
    m_unlockPage = new UnlockPage(m_document, m_messages, m_tabs);
    m_analysis = new AnalysisPage(m_tabs);
    connect(m_analysis, &AnalysisPage::protectionLevelMeasured, m_document, &LockDocument::setProtectionLevel);
    m_tabs->addTab(m_lockPage, tr("1 · Lock"));
    m_tabs->addTab(m_results, tr("2 · Results"));
    m_tabs->addTab(m_unlockPage, tr("3 · Unlock"));
    m_tabs->addTab(m_analysis, tr("4 · Attacks && Report"));
    m_frontier = new FrontierPage(m_document, m_tabs);
    m_tabs->addTab(m_frontier, tr("5 · Choose a Lock"));
    m_licence = new LicencePage(m_document, m_tabs);
    m_tabs->addTab(m_licence, tr("6 · Licences"));
    m_fingerprint = new FingerprintPage(m_document, m_tabs);
    m_tabs->addTab(m_fingerprint, tr("7 · Fingerprints"));

    auto *splitter = new QSplitter(this);
    splitter->addWidget(buildModelPanel());
    splitter->addWidget(m_tabs);
    splitter->setStretchFactor(0, 2);
    splitter->setStretchFactor(1, 3);
    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);
    layout->addWidget(m_messages);
    layout->addWidget(splitter, 1);
    setCentralWidget(central);
    buildActions();

    connect(m_document, &LockDocument::modelChanged, this, &MainWindow::showModel);
    connect(m_document, &LockDocument::datasetChanged, this, &MainWindow::showDataset);
    connect(m_lockPage, &LockPage::lockStarted, this, [this] {
        statusBar()->showMessage(tr("Locking… (Esc cancels)"));
        updateActions();
    });
    connect(m_lockPage, &LockPage::lockStopped, this, [this] {
        statusBar()->showMessage(tr("Locking stopped"), 5000);
        updateActions();
    });
    connect(m_lockPage, &LockPage::lockFinished, this, [this] {
        showOutcome();
        updateActions();
        emit lockFinished();
    });
    connect(m_unlockPage, &UnlockPage::keyChecked, this, &MainWindow::keyChecked);
    connect(m_unlockPage, &UnlockPage::unlocked, this, &MainWindow::unlocked);
    connect(m_unlockPage, &UnlockPage::openModelRequested, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open a locked model"), {}, tr("Models (*.pt)"));
        if (!path.isEmpty())
            openModel(path);
    });
    connect(m_files, &Job::failed, this, [this](const QString &message) {
        m_messages->show(MessageBar::Kind::Error, message);
        updateActions();
    });
    connect(m_files, &Job::ended, this, &MainWindow::updateActions);

    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
    statusBar()->showMessage(tr("Ready"));
    updateActions();
}

MainWindow::~MainWindow() = default;

LockJob *MainWindow::lockJob() const
{
    return m_lockPage->lockJob();
}

QWidget *MainWindow::buildModelPanel()
{
    m_sortedLayers = new QSortFilterProxyModel(this);
    m_sortedLayers->setSourceModel(m_layers);
    m_sortedLayers->setSortRole(Qt::UserRole);
    auto *left = new QWidget(this);
    auto *leftLayout = new QVBoxLayout(left);
    m_modelSummary = new QLabel(tr("<b>No model yet.</b> Open a TorchScript file (File ▸ Open Model, or drop it "
                                   "here), or click <b>Try the demo</b>."),
        left);
    m_modelSummary->setWordWrap(true);
    m_datasetSummary = new QLabel(left);
    m_datasetSummary->setWordWrap(true);
    m_samplePreview = new QWidget(left);
    new QGridLayout(m_samplePreview);
    m_layerView = new QTableView(left);
    m_layerView->setModel(m_sortedLayers);
    m_layerView->setSortingEnabled(true);
    m_layerView->sortByColumn(-1, Qt::AscendingOrder);
    m_layerView->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_layerView->verticalHeader()->hide();
    m_layerView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_layerView->setToolTip(tr("The convolution and fully-connected layers: tick the ones to lock "
                               "(with \"Ticked in the table\" in the lock settings). Click a header to sort."));
    leftLayout->addWidget(m_modelSummary);
    leftLayout->addWidget(m_datasetSummary);
    leftLayout->addWidget(m_samplePreview);
    leftLayout->addWidget(m_layerView, 1);
    return left;
}

void MainWindow::buildActions()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    m_openAction = file->addAction(tr("&Open Model…"), this, [this] {
        QSettings settings;
        const QString path = QFileDialog::getOpenFileName(this, tr("Open a model"),
            settings.value(QStringLiteral("paths/models")).toString(), tr("Models (*.pt *.pth *.zip);;All files (*)"));
        if (!path.isEmpty())
            openModel(path);
    });
    m_openAction->setShortcut(QKeySequence::Open);
    file->addAction(tr("Open &Dataset Folder…"), this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Open a dataset folder"));
        if (!dir.isEmpty())
            openDataset(dir);
    });
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    file->addSeparator();
    m_saveAction = file->addAction(tr("&Save Locked Model and Key…"), this, [this] {
        QSettings settings;
        const QString base = QFileInfo(m_document->modelPath()).completeBaseName();
        const QString dir =
            settings.value(QStringLiteral("paths/output"), QFileInfo(m_document->modelPath()).absolutePath())
                .toString();
        KeyProtectionDialog protection(this);
        if (protection.exec() != QDialog::Accepted)
            return;
        const QString model = QFileDialog::getSaveFileName(this, tr("Save the locked model"),
            dir + QLatin1Char('/') + base + QStringLiteral("-locked.pt"), tr("TorchScript (*.pt)"));
        if (model.isEmpty())
            return;
        const QString key = QFileDialog::getSaveFileName(this, tr("Save the secret key"),
            QFileInfo(model).absolutePath() + QLatin1Char('/') + base + QStringLiteral("-key.json"),
            tr("ParamLock key (*.json)"));
        if (!key.isEmpty() && saveLocked(model, key, protection.password(), protection.recipient()))
            settings.setValue(QStringLiteral("paths/output"), QFileInfo(model).absolutePath());
    });
    m_saveAction->setShortcut(QKeySequence::Save);
    file->addSeparator();
    file->addAction(tr("&Quit"), this, &QWidget::close)->setShortcut(QKeySequence::Quit);

    QMenu *lock = menuBar()->addMenu(tr("&Lock"));
    m_demoAction = lock->addAction(tr("Try the &Demo"), this, &MainWindow::tryDemo);
    m_demoAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_D));
    m_runAction = lock->addAction(tr("&Run Lock"), this, &MainWindow::runLock);
    m_runAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    m_cancelAction = lock->addAction(tr("&Cancel"), this, &MainWindow::cancelLock);
    m_cancelAction->setShortcut(QKeySequence(Qt::Key_Escape));
    m_presentAction = lock->addAction(tr("&Presentation"), this, [this] { present(); });
    m_presentAction->setShortcut(QKeySequence(Qt::Key_F5));

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About ParamLock"), this, [this] {
        QString list;
        for (const ProtectionMethod *m : methods())
            list += QStringLiteral("<li><b>%1</b>: %2</li>")
                        .arg(QString::fromStdString(m->name()).toHtmlEscaped(),
                            QString::fromStdString(m->citation()).toHtmlEscaped());
        QMessageBox::about(this, tr("About ParamLock"),
            tr("<h3>ParamLock %1</h3><p>Locks trained neural networks so that only key holders can use them.</p>"
               "<p>Methods:</p><ul>%2</ul>")
                .arg(QStringLiteral(PARAMLOCK_VERSION), list));
    });

    QToolBar *toolbar = addToolBar(tr("Main"));
    toolbar->setObjectName(QStringLiteral("mainToolbar"));
    toolbar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    toolbar->addAction(m_demoAction);
    toolbar->addAction(m_openAction);
    toolbar->addSeparator();
    toolbar->addAction(m_runAction);
    toolbar->addAction(m_cancelAction);
    toolbar->addAction(m_saveAction);
    toolbar->addAction(m_presentAction);

    QSettings settings;
    const QStringList recent = settings.value(QStringLiteral("recent/models")).toStringList();
    for (const QString &path : recent)
        m_recentMenu->addAction(path, this, [this, path] { openModel(path); });
}

bool MainWindow::openModel(const QString &path)
{
    auto model = Model::load(path.toStdString());
    if (!model) {
        m_messages->show(MessageBar::Kind::Error, QString::fromStdString(model.error()));
        return false;
    }
    m_document->setModel(*model, path);
    m_messages->hide();
    addRecent(path);
    QSettings().setValue(QStringLiteral("paths/models"), QFileInfo(path).absolutePath());
    statusBar()->showMessage(tr("Opened %1").arg(path), 5000);
    updateActions();
    return true;
}

void MainWindow::showModel()
{
    const Model &model = m_document->model();
    const auto layers = model.layers();
    m_layers->setLayers(layers);
    const ModelMetadata &meta = model.metadata();
    m_modelSummary->setText(
        tr("<b>%1</b><br>%2 · %3 parameters · %4 conv/FC layers%5")
            .arg(QFileInfo(m_document->modelPath()).fileName().toHtmlEscaped())
            .arg(model.isTorchScript() ? tr("TorchScript")
                                       : tr("zoo: %1").arg(QString::fromStdString(meta.architecture)))
            .arg(QLocale().toString(qlonglong(model.parameterCount())))
            .arg(layers.size())
            .arg(meta.hasInputShape() ? tr(" · input %1×%2×%3").arg(meta.channels).arg(meta.height).arg(meta.width)
                                      : QString()));
}

void MainWindow::openDataset(const QString &path)
{
    m_datasetSummary->setText(tr("Reading %1…").arg(path));
    using Splits = std::pair<std::shared_ptr<const Dataset>, std::shared_ptr<const Dataset>>;
    const bool started = m_files->start<Splits>(
        [p = path.toStdString()](Progress &progress) -> Expected<Splits> {
            progress.advance(0.0, "reading the training split");
            auto train = loadDataset(p, Split::Train);
            if (!train)
                return Error{train.error()};
            progress.advance(0.5, "reading the test split");
            auto test = loadDataset(p, Split::Test);
            if (!test)
                return Error{test.error()};
            return Splits{
                std::make_shared<const Dataset>(std::move(*train)), std::make_shared<const Dataset>(std::move(*test))};
        },
        [this](Splits splits) {
            m_document->setDataset(splits.first, splits.second);
            statusBar()->showMessage(tr("Dataset ready"), 3000);
            updateActions();
            emit datasetLoaded();
        });
    if (!started)
        m_messages->show(MessageBar::Kind::Warning, tr("Still busy reading or saving; try again in a moment."));
}

void MainWindow::showDataset()
{
    const auto train = m_document->train();
    const auto test = m_document->test();
    if (!train || !test) {
        m_datasetSummary->setText(tr("No dataset."));
        return;
    }
    m_datasetSummary->setText(tr("Dataset: <b>%1</b> · %2 training and %3 test images · %4 classes")
                                  .arg(QString::fromStdString(train->name))
                                  .arg(train->size())
                                  .arg(test->size())
                                  .arg(train->classCount));
    // A few training images with their labels, to see at a glance what the data is.
    auto *grid = static_cast<QGridLayout *>(m_samplePreview->layout());
    while (QLayoutItem *item = grid->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    for (int i = 0; i < std::min<int>(8, int(train->size())); ++i) {
        auto *image = new QLabel;
        image->setPixmap(imageOf(*train, i, 40));
        const int label = train->labels[size_t(i)];
        image->setToolTip(size_t(label) < train->classNames.size()
                ? QString::fromStdString(train->classNames[size_t(label)])
                : QString::number(label));
        auto *caption = new QLabel(image->toolTip());
        QFont f = caption->font();
        f.setPointSizeF(f.pointSizeF() * 0.8);
        caption->setFont(f);
        caption->setAlignment(Qt::AlignCenter);
        grid->addWidget(image, (i / 4) * 2, i % 4, Qt::AlignCenter);
        grid->addWidget(caption, (i / 4) * 2 + 1, i % 4);
    }
}

void MainWindow::tryDemo()
{
    const DemoOptions demo = demoOptions();
    if (demo.modelPath.empty()) {
        m_messages->show(
            MessageBar::Kind::Error, tr("The shipped demo model was not found (set PARAMLOCK_RESOURCES)."));
        return;
    }
    if (openModel(QString::fromStdString(demo.modelPath)))
        openDataset(QString::fromStdString(demo.dataset));
    m_lockPage->selectMethod(demo.method);
    m_messages->show(MessageBar::Kind::Information,
        tr("Demo loaded: LeNet-5 trained on Fashion-MNIST (91.07 % test accuracy). Press <b>Lock the model</b>."));
}

bool MainWindow::selectMethod(const std::string &id)
{
    return m_lockPage->selectMethod(id);
}

bool MainWindow::setParameter(const std::string &name, const std::string &value)
{
    return m_lockPage->setParameter(name, value);
}

void MainWindow::runLock()
{
    m_lockPage->runLock();
}

void MainWindow::cancelLock()
{
    m_lockPage->cancelLock();
}

void MainWindow::showOutcome()
{
    const auto outcome = m_document->outcome();
    if (!outcome)
        return;
    const LockResult &r = outcome->result;
    if (outcome->weak())
        m_messages->show(MessageBar::Kind::Warning,
            tr("Weak lock: %1. Save it only if that is what you want.")
                .arg(QString::fromStdString(outcome->weakness).toHtmlEscaped()));
    else
        m_messages->show(MessageBar::Kind::Success,
            tr("Locked: accuracy %1 → %2 with %3 changed weights. Save the locked model and the key (Ctrl+S); keep "
               "the key secret.")
                .arg(percentString(outcome->accuracyBefore, 2, true), percentString(outcome->accuracyAfter, 2, true))
                .arg(r.encryptedCount()));
    statusBar()->showMessage(tr("Locked in %1 s").arg(r.seconds, 0, 'f', 2), 8000);
    if (m_document->hasDataset())
        m_analysis->setLock(m_document->model(), outcome, m_document->train(), m_document->test(),
            QFileInfo(m_document->modelPath()).fileName());
    m_tabs->setCurrentWidget(m_results);
}

void MainWindow::present(int firstPage)
{
    const auto outcome = m_document->outcome();
    if (!outcome || !m_document->test())
        return;
    PresentationView::present(
        lockStory(*outcome, *m_document->test(), outcome->accuracyBefore, m_document->protectionLevel()), firstPage,
        this);
}

void MainWindow::checkKey(const QString &keyPath, const QString &password)
{
    m_unlockPage->checkKey(keyPath, password);
}

void MainWindow::unlockInMemory()
{
    m_tabs->setCurrentWidget(m_unlockPage);
    m_unlockPage->unlockInMemory();
}

bool MainWindow::saveLocked(
    const QString &modelPath, const QString &keyPath, const QString &password, const QString &recipient)
{
    const auto outcome = m_document->outcome();
    if (!outcome)
        return false;
    const std::vector<std::string> inputs = {m_document->modelPath().toStdString()};
    // Argon2id takes about a second: the key is sealed off the GUI thread, then both files are written there too.
    return m_files->start<bool>(
        [outcome, secret = password.toStdString(), who = recipient.toStdString(), model = modelPath.toStdString(),
            key = keyPath.toStdString(), inputs](Progress &) mutable -> Expected<bool> {
            std::string keyText;
            if (!secret.empty()) {
                auto sealed = sealKey(outcome->result.key, secret, who);
                wipe(secret);
                if (!sealed)
                    return Error{sealed.error()};
                keyText = std::move(*sealed);
            }
            if (auto ok = saveLock(outcome->result, model, key, inputs, keyText); !ok)
                return Error{ok.error()};
            return !keyText.empty();
        },
        [this, modelPath, keyPath](bool sealed) {
            statusBar()->showMessage(sealed ? tr("Saved %1 and the password-protected key %2").arg(modelPath, keyPath)
                                            : tr("Saved %1 and %2 (the key has no password)").arg(modelPath, keyPath),
                8000);
            emit saved(true);
        });
}

void MainWindow::updateActions()
{
    const bool running = m_lockPage->isRunning();
    const bool ready = m_document->hasModel() && m_document->hasDataset();
    m_runAction->setEnabled(ready && !running);
    m_cancelAction->setEnabled(running);
    m_saveAction->setEnabled(m_document->outcome() != nullptr && !running && !m_files->isRunning());
    m_presentAction->setEnabled(m_document->outcome() != nullptr && m_document->hasDataset() && !running);
    m_openAction->setEnabled(!running);
    m_demoAction->setEnabled(!running);
}

void MainWindow::addRecent(const QString &path)
{
    QSettings settings;
    QStringList recent = settings.value(QStringLiteral("recent/models")).toStringList();
    recent.removeAll(path);
    recent.prepend(path);
    while (recent.size() > 8)
        recent.removeLast();
    settings.setValue(QStringLiteral("recent/models"), recent);
    m_recentMenu->clear();
    for (const QString &p : recent)
        m_recentMenu->addAction(p, this, [this, p] { openModel(p); });
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    m_lockPage->cancelLock();
    lockJob()->wait();
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent *event)
{
    if (event->mimeData()->hasUrls())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent *event)
{
    const auto urls = event->mimeData()->urls();
    if (!urls.isEmpty() && urls.first().isLocalFile())
        openModel(urls.first().toLocalFile());
}

} // namespace paramlock
