#include "analysispage.h"

#include "charts.h"
#include "job.h"
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
#include <QProgressBar>
#include <QRegularExpression>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

namespace paramlock {

AnalysisPage::AnalysisPage(QWidget *parent) : QWidget(parent), m_job(new Job(this))
{
    auto *intro = new QLabel(tr("<b>How strong is this lock?</b> Each attack runs on the locked model as someone "
                                "without the key would; the experiments repeat the paper's figures. Results collect "
                                "on the left and go into the report."),
        this);
    intro->setWordWrap(true);
    m_kind = new QComboBox(this);
    m_kind->setToolTip(tr("Fine-tuning, pruning and norm clipping attack any lock; a method adds its own (AdvParams: "
                          "the adaptive attack, the detection test and the paper's Figs. 5-7, which lock again)."));
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
    showProgress(m_job, m_progress);
    connect(m_job, &Job::failed, this, [this](const QString &message) {
        m_status->setText(message.contains(QLatin1String("cancelled")) ? tr("Cancelled; nothing changed.") : message);
        updateButtons();
        emit failed(message);
    });
    updateButtons();
}

AnalysisPage::~AnalysisPage() = default;

void AnalysisPage::setLock(const Model &original, std::shared_ptr<const LockOutcome> outcome,
    std::shared_ptr<const Dataset> train, std::shared_ptr<const Dataset> test, const QString &modelName)
{
    cancel();
    m_job->wait();
    m_original = original;
    m_outcome = std::move(outcome);
    m_test = std::move(test);
    m_train = train;
    m_modelName = modelName;
    m_datasetName = QString::fromStdString(m_test->name);
    // The training images the lock itself used: not drawn again.
    m_encryptionSet = std::make_shared<const Dataset>(lockSample(*m_outcome, *train));
    m_kind->clear();
    for (const AnalysisSpec &spec : analysisSpecs(m_outcome->result.key.method))
        m_kind->addItem(QString::fromStdString(spec.name), QString::fromStdString(spec.kind));
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
    return m_job->isRunning();
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
    context.seed = m_outcome->request.seed;
    m_status->setText(tr("Running %1…").arg(m_kind->currentText()));
    m_progress->setValue(0);
    m_job->start<Analysis>(
        [outcome = m_outcome, original = m_original, sample = m_encryptionSet, train = m_train, test = m_test, context,
            kind = kind.toStdString()](Progress &progress) mutable -> Expected<Analysis> {
            context.original = &original;
            context.lock = &outcome->result;
            context.encryptionSet = sample.get();
            context.train = train.get();
            context.test = test.get();
            return runAnalysis(kind, context, progress);
        },
        [this](Analysis result) {
            m_progress->setValue(1000);
            m_progress->setFormat(QStringLiteral("%p%"));
            m_results.push_back(std::move(result));
            const Analysis &a = m_results.back();
            m_list->addItem(QString::fromStdString(analysisName(a.kind)) + tr(" (%1 s)").arg(a.seconds, 0, 'f', 1));
            m_list->setCurrentRow(m_list->count() - 1);
            m_status->setText(tr("Done in %1 s.").arg(a.seconds, 0, 'f', 1));
            updateButtons();
            if (!a.verdict.empty())
                emit protectionLevelMeasured(QString::fromStdString(a.verdict));
            emit finished(QString::fromStdString(a.kind));
        });
    updateButtons();
}

void AnalysisPage::cancel()
{
    m_job->cancel();
}

void AnalysisPage::show(int index)
{
    if (index < 0 || size_t(index) >= m_results.size())
        return;
    const Analysis &a = m_results[size_t(index)];
    m_chart->setAnalysis(a);
    m_explanation->setText(a.verdict.empty() ? QString::fromStdString(a.explanation).toHtmlEscaped()
                                             : QStringLiteral("<b>%1</b><br>%2")
                                                   .arg(QString::fromStdString(a.verdict).toHtmlEscaped(),
                                                       QString::fromStdString(a.explanation).toHtmlEscaped()));
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
