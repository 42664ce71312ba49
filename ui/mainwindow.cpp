#include "mainwindow.h"

#include "atomicfile.h"
#include "analysispage.h"
#include "charts.h"
#include "layertablemodel.h"
#include "imagedecoding.h"
#include "keyprotectiondialog.h"
#include "messagebar.h"
#include "presentationview.h"
#include "report.h"
#include "resources.h"
#include "sealedkey.h"
#include "training.h"
#include "version.h"

#include <QAction>
#include <QApplication>
#include <QButtonGroup>
#include <QCloseEvent>
#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QDoubleSpinBox>
#include <QEventLoop>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QFutureWatcher>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QScrollArea>
#include <QSettings>
#include <QSortFilterProxyModel>
#include <QSpinBox>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QToolBar>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace paramlock {

namespace {

QString percentString(double fraction)
{
    return QString::number(fraction * 100.0, 'f', 2) + QStringLiteral(" %");
}

QLabel *bigFigure(QWidget *parent)
{
    auto *label = new QLabel(QStringLiteral("–"), parent);
    QFont f = label->font();
    f.setPointSizeF(f.pointSizeF() * 2.2);
    f.setBold(true);
    label->setFont(f);
    label->setAlignment(Qt::AlignCenter);
    return label;
}

QWidget *figureBox(const QString &caption, QLabel *figure, QWidget *parent)
{
    auto *box = new QGroupBox(caption, parent);
    auto *layout = new QVBoxLayout(box);
    layout->addWidget(figure);
    return box;
}

QPixmap imageOf(const Dataset &data, int64_t index, int side)
{
    return QPixmap::fromImage(
        datasetImage(data, index).scaled(side, side, Qt::KeepAspectRatio, Qt::FastTransformation));
}

} // namespace

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent), m_job(new LockJob(this)), m_messages(new MessageBar(this)), m_tabs(new QTabWidget(this))
{
    setWindowTitle(tr("ParamLock"));
    setAcceptDrops(true);

    m_layers = new LayerTableModel(this);
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
                               "(with \"Ticked layers\" in the lock settings). Click a header to sort."));
    leftLayout->addWidget(m_modelSummary);
    leftLayout->addWidget(m_datasetSummary);
    leftLayout->addWidget(m_samplePreview);
    leftLayout->addWidget(m_layerView, 1);

    m_tabs->addTab(buildLockTab(), tr("1 · Lock"));
    m_tabs->addTab(buildResultsTab(), tr("2 · Results"));
    m_tabs->addTab(buildUnlockTab(), tr("3 · Unlock"));
    m_analysis = new AnalysisPage(m_tabs);
    m_tabs->addTab(m_analysis, tr("4 · Attacks && Report"));

    auto *splitter = new QSplitter(this);
    splitter->addWidget(left);
    splitter->addWidget(m_tabs);
    splitter->setStretchFactor(0, 2);
    splitter->setStretchFactor(1, 3);

    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);
    layout->addWidget(m_messages);
    layout->addWidget(splitter, 1);
    setCentralWidget(central);

    buildActions();

    connect(m_job, &LockJob::progressChanged, this, [this](double fraction, const QString &label) {
        m_progress->setValue(int(fraction * 1000));
        m_progress->setFormat(label + QStringLiteral(" — %p%"));
    });
    connect(m_job, &LockJob::stepDone, this, [this](const LockStep &step) { m_lossChart->addStep(step); });
    connect(m_job, &LockJob::finished, this, [this](std::shared_ptr<const LockOutcome> outcome) {
        showOutcome(outcome);
        updateActions();
        emit lockFinished();
    });
    connect(m_job, &LockJob::failed, this, [this](const QString &message) {
        m_messages->show(
            message.contains(QLatin1String("cancelled")) ? MessageBar::Kind::Warning : MessageBar::Kind::Error,
            message.contains(QLatin1String("cancelled")) ? tr("Locking cancelled; the model is untouched.") : message);
        statusBar()->showMessage(tr("Locking stopped"), 5000);
        m_progress->setValue(0);
        m_progress->setFormat(QString());
        m_job->wait();
        updateActions();
    });

    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
    statusBar()->showMessage(tr("Ready"));
    updateActions();
}

MainWindow::~MainWindow() = default;

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
        const QString base = QFileInfo(m_modelPath).completeBaseName();
        const QString dir =
            settings.value(QStringLiteral("paths/output"), QFileInfo(m_modelPath).absolutePath()).toString();
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
    m_presentAction = lock->addAction(tr("&Presentation"), this, &MainWindow::present);
    m_presentAction->setShortcut(QKeySequence(Qt::Key_F5));

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("&About ParamLock"), this, [this] {
        QMessageBox::about(this, tr("About ParamLock"),
            tr("<h3>ParamLock %1</h3><p>Locks trained neural networks with a secret key: a few weights are "
               "changed so that the model is useless, and the key restores it bit for bit.</p>"
               "<p>Implements AdvParams (Xue et al., IEEE TETC 2022) and ParamLock's strong mode.</p>")
                .arg(QStringLiteral(PARAMLOCK_VERSION)));
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

QWidget *MainWindow::buildLockTab()
{
    auto *tab = new QWidget(this);
    auto *form = new QFormLayout;
    m_mode = new QComboBox(tab);
    m_mode->addItem(tr("Strong (ParamLock)"), QStringLiteral("strong"));
    m_mode->addItem(tr("Paper (AdvParams Algorithm 1)"), QStringLiteral("paper"));
    m_mode->setToolTip(tr("Strong: swaps a few weights' values inside their layer, chosen to hurt accuracy most; the "
                          "weight histogram does not change at all. Paper: the published AdvParams algorithm."));
    auto spin = [tab](int lo, int hi, int value, const QString &tip) {
        auto *s = new QSpinBox(tab);
        s->setRange(lo, hi);
        s->setValue(value);
        s->setToolTip(tip);
        return s;
    };
    auto real = [tab](double lo, double hi, double value, double step, const QString &tip) {
        auto *s = new QDoubleSpinBox(tab);
        s->setRange(lo, hi);
        s->setDecimals(3);
        s->setSingleStep(step);
        s->setValue(value);
        s->setToolTip(tip);
        return s;
    };
    m_samples =
        spin(1, 60000, 300, tr("N: how many training images guide the lock (the encryption set). The paper uses 300."));
    m_theta = real(0.001, 1.0, 0.07, 0.01,
        tr("theta (paper mode): each step moves a weight by theta × its layer's range. The paper uses 0.07."));
    m_alpha = real(0.0, 0.49, 0.05, 0.01,
        tr("alpha: changed weights keep alpha × range away from the layer's min and max, so nothing sticks out. "
           "The paper uses 0.05."));
    m_lossThreshold = real(0.1, 1000, 15, 1,
        tr("T_loss (paper mode): stop once the loss on the encryption set exceeds this. The paper uses 15."));
    m_iterations = spin(1, 10000, 18, tr("I (paper mode): steps per locked layer. The paper uses 18."));
    m_maxWeights = spin(0, 100000, 0,
        tr("Strong mode: change at most this many weights (auto: the smaller of 64 and 0.01% of the parameters)."));
    m_maxWeights->setSpecialValueText(tr("auto: min(64, 0.01 % of the parameters)"));
    m_seed = spin(0, 1000000, 0, tr("The secret seed: it draws the encryption set, the layers and the weights."));
    form->addRow(tr("Mode"), m_mode);
    form->addRow(tr("Encryption set N"), m_samples);
    form->addRow(tr("Step θ"), m_theta);
    form->addRow(tr("Margin α"), m_alpha);
    form->addRow(tr("Loss threshold T_loss"), m_lossThreshold);
    form->addRow(tr("Steps per layer I"), m_iterations);
    form->addRow(tr("Weight budget"), m_maxWeights);
    form->addRow(tr("Seed"), m_seed);

    auto *layersBox = new QGroupBox(tr("Layers to lock"), tab);
    auto *layersLayout = new QHBoxLayout(layersBox);
    m_layerChoice = new QButtonGroup(this);
    auto *all = new QRadioButton(tr("All"), layersBox);
    auto *random = new QRadioButton(tr("Random:"), layersBox);
    auto *ticked = new QRadioButton(tr("Ticked in the table"), layersBox);
    m_randomLayers = spin(1, 1000, 6, tr("k random conv/FC layers, drawn with the seed (the paper: 6)."));
    m_layerChoice->addButton(all, 0);
    m_layerChoice->addButton(random, 1);
    m_layerChoice->addButton(ticked, 2);
    all->setChecked(true);
    layersLayout->addWidget(all);
    layersLayout->addWidget(random);
    layersLayout->addWidget(m_randomLayers);
    layersLayout->addWidget(ticked);
    layersLayout->addStretch();
    connect(m_mode, &QComboBox::currentIndexChanged, this, [this, all, random] {
        const bool strong = m_mode->currentData().toString() == QLatin1String("strong");
        for (QWidget *w : {static_cast<QWidget *>(m_theta), static_cast<QWidget *>(m_lossThreshold),
                 static_cast<QWidget *>(m_iterations)})
            w->setEnabled(!strong);
        m_maxWeights->setEnabled(strong);
        (strong ? all : random)->setChecked(true);
    });
    m_theta->setEnabled(false);
    m_lossThreshold->setEnabled(false);
    m_iterations->setEnabled(false);

    m_run = new QPushButton(tr("Lock the model"), tab);
    m_run->setDefault(true);
    m_cancel = new QPushButton(tr("Cancel"), tab);
    connect(m_run, &QPushButton::clicked, this, &MainWindow::runLock);
    connect(m_cancel, &QPushButton::clicked, this, &MainWindow::cancelLock);
    m_progress = new QProgressBar(tab);
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    m_progress->setTextVisible(true);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_run);
    buttons->addWidget(m_cancel);
    buttons->addWidget(m_progress, 1);

    m_lossChart = new LossChart(tab);
    m_lossChart->start(m_lossThreshold->value(), false);
    auto *layout = new QVBoxLayout(tab);
    auto *top = new QHBoxLayout;
    top->addLayout(form);
    top->addStretch();
    layout->addLayout(top);
    layout->addWidget(layersBox);
    layout->addLayout(buttons);
    layout->addWidget(m_lossChart, 1);
    return tab;
}

QWidget *MainWindow::buildResultsTab()
{
    auto *content = new QWidget(this);
    auto *layout = new QVBoxLayout(content);
    auto *figures = new QHBoxLayout;
    m_accuracyBefore = bigFigure(content);
    m_accuracyAfter = bigFigure(content);
    m_drop = bigFigure(content);
    m_encrypted = bigFigure(content);
    figures->addWidget(figureBox(tr("Accuracy before"), m_accuracyBefore, content));
    figures->addWidget(figureBox(tr("Accuracy locked"), m_accuracyAfter, content));
    figures->addWidget(figureBox(tr("Drop A_d"), m_drop, content));
    figures->addWidget(figureBox(tr("Weights changed"), m_encrypted, content));
    layout->addLayout(figures);

    auto *predictions = new QGroupBox(tr("What the model says about test images: before locking → locked"), content);
    m_predictionGrid = new QGridLayout(predictions);
    layout->addWidget(predictions);

    m_rangeChart = new WeightRangeChart(content);
    m_histogram = new WeightHistogramChart(tr("All conv/FC weights before and after locking (Fig. 4)"), content);
    auto *charts = new QHBoxLayout;
    charts->addWidget(m_rangeChart);
    charts->addWidget(m_histogram);
    layout->addLayout(charts, 1);

    auto *zoomRow = new QHBoxLayout;
    zoomRow->addWidget(new QLabel(tr("Zoom on layer:"), content));
    m_zoomLayer = new QComboBox(content);
    zoomRow->addWidget(m_zoomLayer, 1);
    layout->addLayout(zoomRow);
    m_layerHistogram = new WeightHistogramChart(tr("One layer's weights, changed weights marked"), content);
    m_layerHistogram->setMinimumHeight(260);
    layout->addWidget(m_layerHistogram, 1);
    connect(m_zoomLayer, &QComboBox::currentIndexChanged, this, &MainWindow::updateZoomLayer);

    auto *scroll = new QScrollArea(this);
    scroll->setWidget(content);
    scroll->setWidgetResizable(true);
    return scroll;
}

QWidget *MainWindow::buildUnlockTab()
{
    auto *tab = new QWidget(this);
    auto *layout = new QVBoxLayout(tab);
    auto *intro = new QLabel(tr("Unlock the locked model in memory (after a lock) or open a locked model file, then "
                                "open its key. ParamLock checks the key's fingerprints before anything changes."),
        tab);
    intro->setWordWrap(true);
    auto *openModelButton = new QPushButton(tr("Open Locked Model…"), tab);
    auto *openKey = new QPushButton(tr("Open Key…"), tab);
    connect(openModelButton, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open a locked model"), {}, tr("Models (*.pt)"));
        if (!path.isEmpty())
            openModel(path);
    });
    connect(openKey, &QPushButton::clicked, this, [this] {
        const QString path =
            QFileDialog::getOpenFileName(this, tr("Open a key"), {}, tr("ParamLock key (*.json *.key)"));
        if (!path.isEmpty())
            checkKey(path);
    });
    m_keyStatus = new QLabel(tr("No key yet."), tab);
    m_keyStatus->setWordWrap(true);
    m_unlock = new QPushButton(tr("Unlock"), tab);
    connect(m_unlock, &QPushButton::clicked, this, &MainWindow::unlockInMemory);
    m_unlockResult = new QLabel(tab);
    QFont f = m_unlockResult->font();
    f.setPointSizeF(f.pointSizeF() * 1.6);
    m_unlockResult->setFont(f);
    m_unlockResult->setWordWrap(true);
    m_saveUnlocked = new QPushButton(tr("Save Unlocked Model…"), tab);
    connect(m_saveUnlocked, &QPushButton::clicked, this, [this] {
        if (!m_unlocked)
            return;
        const QString path =
            QFileDialog::getSaveFileName(this, tr("Save the unlocked model"), {}, tr("TorchScript (*.pt)"));
        if (path.isEmpty())
            return;
        auto saved = m_unlocked->save(path.toStdString(), {m_modelPath.toStdString()});
        if (!saved)
            QMessageBox::critical(this, tr("Cannot save"), QString::fromStdString(saved.error()));
        else
            statusBar()->showMessage(tr("Saved %1").arg(path), 5000);
    });
    auto *row = new QHBoxLayout;
    row->addWidget(openModelButton);
    row->addWidget(openKey);
    row->addWidget(m_unlock);
    row->addWidget(m_saveUnlocked);
    row->addStretch();
    layout->addWidget(intro);
    layout->addLayout(row);
    layout->addWidget(m_keyStatus);
    layout->addWidget(m_unlockResult);
    layout->addStretch();
    return tab;
}

bool MainWindow::openModel(const QString &path)
{
    auto model = Model::load(path.toStdString());
    if (!model) {
        m_messages->show(MessageBar::Kind::Error, QString::fromStdString(model.error()));
        return false;
    }
    m_model = *model;
    m_modelPath = path;
    m_outcome.reset();
    m_key.reset();
    m_unlocked.reset();
    const auto layers = m_model.layers();
    m_layers->setLayers(layers);
    const ModelMetadata &meta = m_model.metadata();
    m_modelSummary->setText(
        tr("<b>%1</b><br>%2 · %3 parameters · %4 conv/FC layers%5")
            .arg(QFileInfo(path).fileName().toHtmlEscaped())
            .arg(m_model.isTorchScript() ? tr("TorchScript")
                                         : tr("zoo: %1").arg(QString::fromStdString(meta.architecture)))
            .arg(QLocale().toString(qlonglong(m_model.parameterCount())))
            .arg(layers.size())
            .arg(meta.hasInputShape() ? tr(" · input %1×%2×%3").arg(meta.channels).arg(meta.height).arg(meta.width)
                                      : QString()));
    m_messages->hide();
    addRecent(path);
    QSettings().setValue(QStringLiteral("paths/models"), QFileInfo(path).absolutePath());
    statusBar()->showMessage(tr("Opened %1").arg(path), 5000);
    m_keyStatus->setText(tr("No key yet."));
    m_unlockResult->clear();
    updateActions();
    return true;
}

void MainWindow::openDataset(const QString &path)
{
    m_datasetSummary->setText(tr("Reading %1…").arg(path));
    auto *watcher = new QFutureWatcher<std::pair<Expected<Dataset>, Expected<Dataset>>>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, path] {
        auto [train, test] = watcher->result();
        watcher->deleteLater();
        if (!train || !test) {
            m_datasetSummary->setText(tr("No dataset."));
            m_messages->show(MessageBar::Kind::Error, QString::fromStdString(!train ? train.error() : test.error()));
            updateActions();
            return;
        }
        m_train = std::move(*train);
        m_test = std::move(*test);
        m_datasetName = QString::fromStdString(m_train->name);
        m_datasetSummary->setText(tr("Dataset: <b>%1</b> · %2 training and %3 test images · %4 classes")
                                      .arg(m_datasetName)
                                      .arg(m_train->size())
                                      .arg(m_test->size())
                                      .arg(m_train->classCount));
        // A few training images with their labels, to see at a glance what the data is.
        auto *grid = static_cast<QGridLayout *>(m_samplePreview->layout());
        while (QLayoutItem *item = grid->takeAt(0)) {
            delete item->widget();
            delete item;
        }
        for (int i = 0; i < std::min<int>(8, int(m_train->size())); ++i) {
            auto *image = new QLabel;
            image->setPixmap(imageOf(*m_train, i, 40));
            const int label = m_train->labels[size_t(i)];
            image->setToolTip(size_t(label) < m_train->classNames.size()
                    ? QString::fromStdString(m_train->classNames[size_t(label)])
                    : QString::number(label));
            auto *caption = new QLabel(image->toolTip());
            QFont f = caption->font();
            f.setPointSizeF(f.pointSizeF() * 0.8);
            caption->setFont(f);
            caption->setAlignment(Qt::AlignCenter);
            grid->addWidget(image, (i / 4) * 2, i % 4, Qt::AlignCenter);
            grid->addWidget(caption, (i / 4) * 2 + 1, i % 4);
        }
        statusBar()->showMessage(tr("Dataset ready"), 3000);
        updateActions();
    });
    const std::string p = path.toStdString();
    watcher->setFuture(
        QtConcurrent::run([p] { return std::make_pair(loadDataset(p, Split::Train), loadDataset(p, Split::Test)); }));
}

void MainWindow::tryDemo()
{
    const QString demo = QString::fromStdString(demoModelPath());
    if (demo.isEmpty()) {
        m_messages->show(
            MessageBar::Kind::Error, tr("The shipped demo model was not found (set PARAMLOCK_RESOURCES)."));
        return;
    }
    if (openModel(demo))
        openDataset(QStringLiteral("fashion-mnist"));
    m_mode->setCurrentIndex(0);
    // 0.01 % of LeNet-5 is 6 weights, too few to make it useless; the demo allows 32.
    m_maxWeights->setValue(32);
    m_messages->show(MessageBar::Kind::Information,
        tr("Demo loaded: LeNet-5 trained on Fashion-MNIST (91.07 % test accuracy). Press <b>Lock the model</b>."));
}

LockOptions MainWindow::currentOptions() const
{
    LockOptions o;
    LockSettings &s = o.settings;
    s.mode = m_mode->currentData().toString().toStdString();
    s.samples = m_samples->value();
    s.theta = m_theta->value();
    s.alpha = m_alpha->value();
    s.lossThreshold = m_lossThreshold->value();
    s.maxIterations = m_iterations->value();
    s.maxWeights = m_maxWeights->value();
    s.seed = uint64_t(m_seed->value());
    switch (m_layerChoice->checkedId()) {
    case 0:
        s.allLayers = true;
        break;
    case 1:
        s.randomLayers = m_randomLayers->value();
        break;
    default:
        s.layers = m_layers->checkedLayers();
    }
    return o;
}

void MainWindow::setLockSettings(const QString &mode, int samples)
{
    m_mode->setCurrentIndex(std::max(0, m_mode->findData(mode)));
    m_samples->setValue(samples);
}

void MainWindow::runLock()
{
    if (!m_model.isValid() || !m_train || m_job->isRunning())
        return;
    const LockOptions options = currentOptions();
    if (m_layerChoice->checkedId() == 2 && options.settings.layers.empty()) {
        m_messages->show(MessageBar::Kind::Error,
            tr("No layer is ticked: tick at least one layer in the table, or "
               "choose All or Random."));
        return;
    }
    if (auto ok = checkCompatible(m_model, *m_train); !ok) {
        m_messages->show(MessageBar::Kind::Error, QString::fromStdString(ok.error()));
        return;
    }
    auto encryptionSet = drawEncryptionSet(*m_train, options.settings);
    if (!encryptionSet) {
        m_messages->show(MessageBar::Kind::Error, QString::fromStdString(encryptionSet.error()));
        return;
    }
    m_messages->hide();
    m_lossChart->start(options.settings.lossThreshold, options.settings.mode == "paper");
    m_job->start(m_model, *encryptionSet, *m_test, options);
    statusBar()->showMessage(tr("Locking… (Esc cancels)"));
    updateActions();
}

void MainWindow::cancelLock()
{
    m_job->cancel();
}

void MainWindow::showOutcome(const std::shared_ptr<const LockOutcome> &outcome)
{
    m_outcome = outcome;
    m_job->wait();
    const LockResult &r = outcome->result;
    m_key = r.key;
    m_unlocked.reset();
    m_progress->setValue(1000);
    m_progress->setFormat(tr("done in %1 s").arg(r.seconds, 0, 'f', 2));
    m_accuracyBefore->setText(percentString(outcome->accuracyBefore));
    m_accuracyAfter->setText(percentString(outcome->accuracyAfter));
    m_accuracyAfter->setStyleSheet(QStringLiteral("color: #b91c1c"));
    m_drop->setText(percentString(outcome->accuracyBefore - outcome->accuracyAfter));
    m_encrypted->setText(
        tr("%1 of %2").arg(r.encryptedCount()).arg(QLocale().toString(qlonglong(r.key.parameterCount))));
    m_encrypted->setToolTip(
        tr("%1 % of all parameters").arg(100.0 * double(r.encryptedCount()) / double(r.key.parameterCount), 0, 'f', 5));
    m_rangeChart->setData(r.layers);
    m_histogram->setData(allWeights(m_model), allWeights(r.locked));
    m_zoomLayer->blockSignals(true);
    m_zoomLayer->clear();
    for (const auto &l : r.layers)
        if (!l.positions.empty())
            m_zoomLayer->addItem(QString::fromStdString(l.layer));
    m_zoomLayer->blockSignals(false);
    updateZoomLayer();
    showPredictions(*outcome);
    m_keyStatus->setText(tr("The key of this lock is in memory: it fits the locked model (fingerprint %1…).")
                             .arg(QString::fromStdString(r.key.lockedFingerprint.substr(0, 12))));
    m_messages->show(MessageBar::Kind::Success,
        tr("Locked: accuracy %1 → %2 with %3 changed weights. Save the locked model and the key (Ctrl+S); keep the "
           "key secret.")
            .arg(percentString(outcome->accuracyBefore), percentString(outcome->accuracyAfter))
            .arg(r.encryptedCount()));
    statusBar()->showMessage(tr("Locked in %1 s").arg(r.seconds, 0, 'f', 2), 8000);
    if (m_train && m_test)
        m_analysis->setLock(m_model, outcome, *m_train, *m_test, QFileInfo(m_modelPath).fileName());
    m_tabs->setCurrentIndex(1);
}

void MainWindow::showPredictions(const LockOutcome &outcome)
{
    while (QLayoutItem *item = m_predictionGrid->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    if (!m_test)
        return;
    const auto &names = m_test->classNames;
    auto name = [&](int c) {
        return c >= 0 && size_t(c) < names.size() ? QString::fromStdString(names[size_t(c)]) : QString::number(c);
    };
    const int columns = 6;
    for (size_t i = 0; i < outcome.predictionsBefore.size(); ++i) {
        auto *cell = new QLabel;
        const int truth = m_test->labels[i];
        const int before = outcome.predictionsBefore[i];
        const int after = outcome.predictionsAfter[i];
        auto coloured = [&](int p) {
            return QStringLiteral("<span style='color:%1'>%2</span>")
                .arg(p == truth ? QStringLiteral("#15803d") : QStringLiteral("#b91c1c"), name(p).toHtmlEscaped());
        };
        cell->setText(tr("<b>%1</b><br>%2 → %3").arg(name(truth).toHtmlEscaped(), coloured(before), coloured(after)));
        cell->setAlignment(Qt::AlignCenter);
        auto *picture = new QLabel;
        picture->setPixmap(imageOf(*m_test, int64_t(i), 56));
        picture->setAlignment(Qt::AlignCenter);
        const int row = int(i) / columns * 2;
        m_predictionGrid->addWidget(picture, row, int(i) % columns);
        m_predictionGrid->addWidget(cell, row + 1, int(i) % columns);
    }
}

void MainWindow::updateZoomLayer()
{
    if (!m_outcome || m_zoomLayer->currentIndex() < 0)
        return;
    const std::string name = m_zoomLayer->currentText().toStdString();
    for (const auto &l : m_outcome->result.layers)
        if (l.layer == name) {
            m_layerHistogram->setData(*m_model.weights(name), *m_outcome->result.locked.weights(name), 50, l.after);
            return;
        }
}

void MainWindow::present(int firstPage)
{
    if (!m_outcome || !m_test)
        return;
    // Unlocking restores the original bit for bit (the fingerprint is checked), so it scores the same.
    auto restored = unlockModel(m_outcome->result.locked, m_outcome->result.key);
    if (!restored) {
        m_messages->show(MessageBar::Kind::Error, QString::fromStdString(restored.error()));
        return;
    }
    PresentationView view(*m_outcome, *m_test, m_outcome->accuracyBefore, this);
    for (int i = 0; i < firstPage; ++i)
        view.next();
    view.setGeometry(screen()->geometry());
    view.showFullScreen();
    view.exec();
}

namespace {
/** Runs slow work (Argon2id takes about a second) off the GUI thread and waits in a local event loop. */
template<typename Work> auto whileBusy(QWidget *window, Work work)
{
    using Result = decltype(work());
    QFutureWatcher<Result> watcher;
    QEventLoop loop;
    QObject::connect(&watcher, &QFutureWatcherBase::finished, &loop, &QEventLoop::quit);
    QApplication::setOverrideCursor(Qt::BusyCursor);
    window->setEnabled(false);
    watcher.setFuture(QtConcurrent::run(std::move(work)));
    if (!watcher.isFinished())
        loop.exec();
    window->setEnabled(true);
    QApplication::restoreOverrideCursor();
    return watcher.result();
}
} // namespace

void MainWindow::checkKey(const QString &keyPath, const QString &password)
{
    auto text = readWholeFile(keyPath.toStdString());
    if (!text) {
        m_messages->show(MessageBar::Kind::Error, QString::fromStdString(text.error()));
        return;
    }
    std::string secret = password.toStdString();
    if (isSealedKey(*text) && secret.empty()) {
        auto info = inspectKey(*text);
        bool ok = false;
        const QString typed = QInputDialog::getText(this, tr("Password-Protected Key"),
            info && !info->recipient.empty()
                ? tr("Password of the key issued to %1:").arg(QString::fromStdString(info->recipient))
                : tr("Password of this key:"),
            QLineEdit::Password, {}, &ok);
        if (!ok)
            return;
        secret = typed.toStdString();
    }
    OpenedKey opened = whileBusy(this, [text = *text, secret]() { return openKey(text, secret); });
    wipe(secret);
    if (!opened.ok()) {
        m_messages->show(MessageBar::Kind::Error,
            opened.error == KeyError::WrongPassword ? tr("Wrong password for this key; nothing was unlocked.")
                                                    : QString::fromStdString(opened.message));
        return;
    }
    m_key = std::move(opened.key);
    const Model &target = m_outcome ? m_outcome->result.locked : m_model;
    const KeyFit fit = paramlock::checkKey(target, *m_key);
    m_keyStatus->setText(QString::fromStdString(fit.message));
    m_messages->show(fit.fits() ? MessageBar::Kind::Success : MessageBar::Kind::Error,
        fit.fits() ? tr("The key fits this model.") : QString::fromStdString(fit.message));
    updateActions();
}

void MainWindow::unlockInMemory()
{
    if (!m_key)
        return;
    const Model locked = m_outcome ? m_outcome->result.locked : m_model;
    auto restored = unlockModel(locked, *m_key);
    if (!restored) {
        m_messages->show(MessageBar::Kind::Error, QString::fromStdString(restored.error()));
        return;
    }
    m_unlocked = *restored;
    const QString text = tr("Unlocked: the weights hash to the original fingerprint, bit for bit.");
    m_unlockResult->setText(m_test ? text + tr("<br>Measuring its test accuracy…") : text);
    m_messages->show(MessageBar::Kind::Success, tr("Model unlocked."));
    m_tabs->setCurrentIndex(2);
    updateActions();
    if (!m_test) {
        emit unlocked();
        return;
    }
    // Evaluation takes seconds on a large model: off the GUI thread.
    auto *watcher = new QFutureWatcher<std::pair<double, std::string>>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, text] {
        const auto [accuracy, error] = watcher->result();
        watcher->deleteLater();
        m_unlockResult->setText(error.empty()
                ? text + tr("<br>Test accuracy of the unlocked model: <b>%1</b>").arg(percentString(accuracy))
                : text + tr("<br>Could not evaluate it: %1").arg(QString::fromStdString(error).toHtmlEscaped()));
        emit unlocked();
    });
    watcher->setFuture(QtConcurrent::run([model = *m_unlocked, test = *m_test]() -> std::pair<double, std::string> {
        auto eval = evaluate(model, test);
        return eval ? std::make_pair(eval->accuracy, std::string()) : std::make_pair(0.0, eval.error());
    }));
}

bool MainWindow::saveLocked(
    const QString &modelPath, const QString &keyPath, const QString &password, const QString &recipient)
{
    if (!m_outcome)
        return false;
    std::string keyText;
    if (!password.isEmpty()) {
        auto sealed = whileBusy(this,
            [key = m_outcome->result.key, secret = password.toStdString(), who = recipient.toStdString()]() mutable {
                auto text = sealKey(key, secret, who);
                wipe(secret);
                return text;
            });
        if (!sealed) {
            QMessageBox::critical(this, tr("Cannot save"), QString::fromStdString(sealed.error()));
            return false;
        }
        keyText = std::move(*sealed);
    }
    const std::vector<std::string> inputs = {m_modelPath.toStdString()};
    auto saved = saveLock(m_outcome->result, modelPath.toStdString(), keyPath.toStdString(), inputs, keyText);
    if (!saved) {
        QMessageBox::critical(this, tr("Cannot save"), QString::fromStdString(saved.error()));
        return false;
    }
    statusBar()->showMessage(keyText.empty() ? tr("Saved %1 and %2 (the key has no password)").arg(modelPath, keyPath)
                                             : tr("Saved %1 and the password-protected key %2").arg(modelPath, keyPath),
        8000);
    return true;
}

void MainWindow::updateActions()
{
    const bool running = m_job->isRunning();
    const bool ready = m_model.isValid() && m_train.has_value();
    m_runAction->setEnabled(ready && !running);
    m_run->setEnabled(ready && !running);
    m_cancelAction->setEnabled(running);
    m_cancel->setEnabled(running);
    m_saveAction->setEnabled(m_outcome != nullptr && !running);
    m_presentAction->setEnabled(m_outcome != nullptr && m_test.has_value() && !running);
    m_openAction->setEnabled(!running);
    m_demoAction->setEnabled(!running);
    m_unlock->setEnabled(m_key.has_value() && !running);
    m_saveUnlocked->setEnabled(m_unlocked.has_value());
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
    m_job->cancel();
    m_job->wait();
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
