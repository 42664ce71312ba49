#include "analysispage.h"

#include "charts.h"
#include "report.h"

#include <QApplication>
#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QMessageBox>
#include <QMutex>
#include <QProgressBar>
#include <QRegularExpression>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace paramlock {

/** Progress shared with the worker: it writes, the GUI polls (no signal storm). */
class AnalysisPage::WorkerProgress : public Progress
{
public:
    bool advance(double fraction, const std::string &label) override
    {
        QMutexLocker lock(&m_mutex);
        m_fraction = fraction;
        m_label = label;
        return !cancelled();
    }
    std::pair<double, QString> read()
    {
        QMutexLocker lock(&m_mutex);
        return {m_fraction, QString::fromStdString(m_label)};
    }

private:
    QMutex m_mutex;
    double m_fraction = 0.0;
    std::string m_label;
};

AnalysisPage::AnalysisPage(QWidget *parent)
    : QWidget(parent), m_poll(new QTimer(this)), m_watcher(new QFutureWatcher<Expected<Analysis>>(this))
{
    auto *intro = new QLabel(tr("<b>How strong is this lock?</b> Each attack runs on the locked model as someone "
                                "without the key would; the experiments repeat the paper's figures. Results collect "
                                "on the left and go into the report."),
        this);
    intro->setWordWrap(true);
    m_kind = new QComboBox(this);
    for (const std::string &kind : analysisKinds())
        m_kind->addItem(QString::fromStdString(analysisName(kind)), QString::fromStdString(kind));
    m_kind->setToolTip(tr("Fine-tuning, pruning, norm clipping, the adaptive attack and the detection test attack "
                          "the lock; the sweeps reproduce the paper's Figs. 5-7 (they lock again)."));
    m_epochs = new QSpinBox(this);
    m_epochs->setRange(1, 200);
    m_epochs->setValue(10);
    m_epochs->setSuffix(tr(" epochs"));
    m_epochs->setToolTip(tr("Fine-tuning attack: the paper runs 100 epochs (slow on a CPU)."));
    m_evalImages = new QSpinBox(this);
    m_evalImages->setRange(0, 1000000);
    m_evalImages->setSingleStep(1000);
    m_evalImages->setValue(2000);
    m_evalImages->setSpecialValueText(tr("all"));
    m_evalImages->setToolTip(tr("Score each attack on this many test images (0: all) for a quicker answer."));
    m_run = new QPushButton(tr("Run"), this);
    m_run->setDefault(true);
    m_cancel = new QPushButton(tr("Cancel"), this);
    m_export = new QPushButton(tr("Export Report…"), this);
    m_export->setToolTip(tr("One HTML file with every chart and table, and a PDF of it; no key material."));
    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 1000);
    m_status = new QLabel(tr("Lock a model first (Lock tab)."), this);
    m_status->setWordWrap(true);
    m_list = new QListWidget(this);
    m_chart = new AnalysisChart(this);
    m_explanation = new QLabel(this);
    m_explanation->setWordWrap(true);
    m_table = new QTableWidget(this);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->verticalHeader()->setVisible(false);

    auto *form = new QFormLayout;
    form->addRow(tr("&Analysis:"), m_kind);
    form->addRow(tr("Fine-tuning:"), m_epochs);
    form->addRow(tr("Test images:"), m_evalImages);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_run);
    buttons->addWidget(m_cancel);
    auto *left = new QWidget(this);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->addWidget(intro);
    leftLayout->addLayout(form);
    leftLayout->addLayout(buttons);
    leftLayout->addWidget(m_progress);
    leftLayout->addWidget(m_status);
    leftLayout->addWidget(new QLabel(tr("Results:"), left));
    leftLayout->addWidget(m_list, 1);
    leftLayout->addWidget(m_export);
    auto *right = new QWidget(this);
    auto *rightLayout = new QVBoxLayout(right);
    rightLayout->addWidget(m_chart, 3);
    rightLayout->addWidget(m_explanation);
    rightLayout->addWidget(m_table, 2);
    auto *splitter = new QSplitter(this);
    splitter->addWidget(left);
    splitter->addWidget(right);
    splitter->setStretchFactor(1, 3);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(splitter);

    connect(m_run, &QPushButton::clicked, this, [this] { run(m_kind->currentData().toString()); });
    connect(m_cancel, &QPushButton::clicked, this, &AnalysisPage::cancel);
    connect(m_export, &QPushButton::clicked, this, &AnalysisPage::exportWithDialog);
    connect(m_list, &QListWidget::currentRowChanged, this, &AnalysisPage::show);
    connect(m_poll, &QTimer::timeout, this, [this] {
        if (!m_worker)
            return;
        const auto [fraction, label] = m_worker->read();
        m_progress->setValue(int(fraction * 1000.0));
        m_progress->setFormat(label.isEmpty() ? QStringLiteral("%p%") : label + QStringLiteral(" — %p%"));
    });
    connect(m_watcher, &QFutureWatcherBase::finished, this, [this] {
        m_poll->stop();
        const QString kind = m_kind->currentData().toString();
        Expected<Analysis> result = m_watcher->result();
        const bool cancelled = m_worker && m_worker->cancelled();
        m_worker.reset();
        m_progress->setValue(result ? 1000 : 0);
        m_progress->setFormat(QStringLiteral("%p%"));
        if (!result) {
            m_status->setText(cancelled ? tr("Cancelled; nothing changed.") : QString::fromStdString(result.error()));
            updateButtons();
            emit failed(QString::fromStdString(result.error()));
            return;
        }
        m_results.push_back(std::move(*result));
        const Analysis &a = m_results.back();
        m_list->addItem(QString::fromStdString(analysisName(a.kind)) + tr(" (%1 s)").arg(a.seconds, 0, 'f', 1));
        m_list->setCurrentRow(m_list->count() - 1);
        m_status->setText(tr("Done in %1 s.").arg(a.seconds, 0, 'f', 1));
        updateButtons();
        emit finished(QString::fromStdString(a.kind));
    });
    m_poll->setInterval(100);
    updateButtons();
}

AnalysisPage::~AnalysisPage()
{
    cancel();
    m_watcher->waitForFinished();
}

void AnalysisPage::setLock(const Model &original, std::shared_ptr<const LockOutcome> outcome, const Dataset &train,
    const Dataset &test, const QString &modelName)
{
    cancel();
    m_watcher->waitForFinished();
    m_original = original;
    m_outcome = std::move(outcome);
    m_test = std::make_shared<const Dataset>(test);
    m_modelName = modelName;
    m_datasetName = QString::fromStdString(test.name);
    // The same encryption set the lock used: the draw is reproducible from its settings.
    auto drawn = drawEncryptionSet(train, m_outcome->result.key.settings);
    m_encryptionSet = drawn ? std::make_shared<const Dataset>(std::move(*drawn)) : nullptr;
    m_results.clear();
    m_list->clear();
    m_table->clear();
    m_table->setRowCount(0);
    m_explanation->clear();
    m_status->setText(tr("Ready: pick an analysis and press Run."));
    updateButtons();
}

void AnalysisPage::setFineTuneEpochs(int epochs)
{
    m_epochs->setValue(epochs);
}

void AnalysisPage::setEvaluationLimit(int images)
{
    m_evalImages->setValue(images);
}

bool AnalysisPage::isRunning() const
{
    return m_watcher->isRunning();
}

void AnalysisPage::run(const QString &kind)
{
    if (!m_outcome || isRunning())
        return;
    const int index = m_kind->findData(kind);
    if (index < 0) {
        emit failed(tr("unknown analysis %1").arg(kind));
        return;
    }
    m_kind->setCurrentIndex(index);
    AnalysisContext context;
    context.evalLimit = m_evalImages->value();
    context.fineTuneEpochs = m_epochs->value();
    context.seed = m_outcome->result.key.settings.seed;
    context.options.settings = m_outcome->result.key.settings;
    m_worker = std::make_shared<WorkerProgress>();
    m_status->setText(tr("Running %1…").arg(m_kind->currentText()));
    m_progress->setValue(0);
    m_poll->start();
    m_watcher->setFuture(
        QtConcurrent::run([worker = m_worker, outcome = m_outcome, original = m_original, de = m_encryptionSet,
                              test = m_test, context, kind = kind.toStdString()]() mutable -> Expected<Analysis> {
            context.original = &original;
            context.lock = &outcome->result;
            context.encryptionSet = de.get();
            context.test = test.get();
            return runAnalysis(kind, context, *worker);
        }));
    updateButtons();
}

void AnalysisPage::cancel()
{
    if (m_worker)
        m_worker->cancel();
}

void AnalysisPage::show(int index)
{
    if (index < 0 || size_t(index) >= m_results.size())
        return;
    const Analysis &a = m_results[size_t(index)];
    m_chart->setAnalysis(a);
    m_explanation->setText(QString::fromStdString(a.explanation));
    m_table->clear();
    m_table->setColumnCount(int(a.columns.size()));
    m_table->setRowCount(int(a.rows.size()));
    QStringList header;
    for (const auto &c : a.columns)
        header << QString::fromStdString(c);
    m_table->setHorizontalHeaderLabels(header);
    for (size_t r = 0; r < a.rows.size(); ++r)
        for (size_t c = 0; c < a.rows[r].size() && c < a.columns.size(); ++c)
            m_table->setItem(int(r), int(c), new QTableWidgetItem(QString::fromStdString(a.rows[r][c])));
    m_table->resizeColumnsToContents();
}

void AnalysisPage::updateButtons()
{
    const bool running = isRunning();
    m_run->setEnabled(m_outcome && !running);
    m_cancel->setEnabled(running);
    m_export->setEnabled(m_outcome && !running);
    m_kind->setEnabled(!running);
}

Expected<void> AnalysisPage::exportReport(const QString &htmlPath)
{
    if (!m_outcome)
        return Error{"lock a model first"};
    ReportData data;
    data.modelName = m_modelName;
    data.datasetName = m_datasetName;
    data.original = &m_original;
    data.lock = &m_outcome->result;
    data.accuracyBefore = m_outcome->accuracyBefore;
    data.accuracyAfter = m_outcome->accuracyAfter;
    // The lock verified that the key restores the original bit for bit: the same model, the same accuracy.
    data.accuracyUnlocked = m_outcome->accuracyBefore;
    data.testSamples = m_outcome->testSamples;
    data.analyses = m_results;
    QString pdf = htmlPath;
    pdf.replace(QRegularExpression(QStringLiteral("\\.html?$"), QRegularExpression::CaseInsensitiveOption), QString());
    return writeReport(data, htmlPath, pdf + QStringLiteral(".pdf"));
}

void AnalysisPage::exportWithDialog()
{
    const QString path = QFileDialog::getSaveFileName(this, tr("Export the report"),
        QFileInfo(m_modelName).completeBaseName() + QStringLiteral("-report.html"), tr("HTML report (*.html)"));
    if (path.isEmpty())
        return;
    QApplication::setOverrideCursor(Qt::BusyCursor);
    const auto written = exportReport(path);
    QApplication::restoreOverrideCursor();
    if (!written)
        QMessageBox::critical(this, tr("Cannot export the report"), QString::fromStdString(written.error()));
    else
        m_status->setText(tr("Wrote %1 and its PDF.").arg(path));
}

} // namespace paramlock
