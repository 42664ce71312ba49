#include "frontierpage.h"

#include "charts.h"
#include "job.h"
#include "lockdocument.h"
#include "text.h"
#include "uitext.h"

#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <cmath>

namespace paramlock {

namespace {

QString number2(double x)
{
    return std::isnan(x) ? QStringLiteral("n/a") : QString::number(x, 'f', 2);
}

} // namespace

FrontierPage::FrontierPage(LockDocument *document, QWidget *parent)
    : QWidget(parent), m_document(document), m_job(new Job(this))
{
    auto *intro = new QLabel(tr("<b>Which lock should I choose?</b> Locks a copy of the open model with every method "
                                "and setting, then measures what each locked model is still worth to a thief with k "
                                "labelled images (the advantage: 0% is nothing beyond the thief's own data, 100% "
                                "as much as the original) and how visible each lock is to a reviewer who checks the "
                                "weights (the stealth score: each layer's mean and spread, its range, and whether conv "
                                "kernels keep the smoothness of trained ones). The model itself is not changed."),
        this);
    intro->setWordWrap(true);
    m_k = new QSpinBox(this);
    m_k->setRange(100, 60000);
    m_k->setSingleStep(100);
    m_k->setValue(1000);
    m_k->setSuffix(tr(" images"));
    m_k->setToolTip(tr("The labelled training images the thief holds."));
    m_evalImages = new QSpinBox(this);
    m_evalImages->setRange(0, 1000000);
    m_evalImages->setSingleStep(1000);
    m_evalImages->setValue(2000);
    m_evalImages->setSpecialValueText(tr("all"));
    m_evalImages->setToolTip(tr("Score every training run on this many test images (0: all) for a quicker answer."));
    m_run = new QPushButton(tr("Compare Locks"), this);
    m_run->setDefault(true);
    m_cancel = new QPushButton(tr("Cancel"), this);
    m_progress = new QProgressBar(this);
    m_status = new QLabel(this);
    m_status->setWordWrap(true);
    m_weights = new FrontierChart(FrontierChart::Axis::WeightsChanged, this);
    m_stealth = new FrontierChart(FrontierChart::Axis::Stealth, this);
    m_summary = new QLabel(this);
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_table = new QTableWidget(this);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->setVisible(false);
    m_table->horizontalHeader()->setStretchLastSection(true);

    auto *form = new QFormLayout;
    form->addRow(tr("&Thief's images (k):"), m_k);
    form->addRow(tr("&Test images:"), m_evalImages);
    auto *controls = new QHBoxLayout;
    controls->addLayout(form);
    controls->addWidget(m_run);
    controls->addWidget(m_cancel);
    controls->addWidget(m_progress, 1);
    auto *charts = new QSplitter(this);
    charts->addWidget(m_weights);
    charts->addWidget(m_stealth);
    auto *vertical = new QSplitter(Qt::Vertical, this);
    vertical->addWidget(charts);
    vertical->addWidget(m_table);
    vertical->setStretchFactor(0, 3);
    vertical->setStretchFactor(1, 2);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addLayout(controls);
    layout->addWidget(m_status);
    layout->addWidget(m_summary);
    layout->addWidget(vertical, 1);

    connect(m_run, &QPushButton::clicked, this, &FrontierPage::run);
    connect(m_cancel, &QPushButton::clicked, this, &FrontierPage::cancel);
    showProgress(m_job, m_progress);
    connect(m_job, &Job::failed, this, [this](const QString &message) {
        m_status->setText(message.contains(QLatin1String("cancelled")) ? tr("Cancelled; nothing changed.") : message);
        updateButtons();
        emit failed(message);
    });
    // Another model or dataset: the comparison of the previous one is dropped.
    const auto reset = [this] {
        cancel();
        m_job->wait();
        m_result.reset();
        m_weights->setResult({});
        m_stealth->setResult({});
        m_table->clear();
        m_table->setRowCount(0);
        m_summary->clear();
        m_status->clear();
        updateButtons();
    };
    connect(m_document, &LockDocument::modelChanged, this, reset);
    connect(m_document, &LockDocument::datasetChanged, this, reset);
    updateButtons();
}

FrontierPage::~FrontierPage() = default;

void FrontierPage::setThiefImages(int k)
{
    m_k->setValue(k);
}

void FrontierPage::setEvaluationLimit(int images)
{
    m_evalImages->setValue(images);
}

bool FrontierPage::isRunning() const
{
    return m_job->isRunning();
}

void FrontierPage::run()
{
    if (isRunning() || !m_document->hasModel() || !m_document->hasDataset())
        return;
    FrontierOptions options = m_options;
    options.size = m_k->value();
    options.evalLimit = m_evalImages->value();
    const size_t locks =
        options.candidates.empty() ? frontierCandidates(m_document->model()).size() : options.candidates.size();
    m_status->setText(tr("Locking the model %1 ways and training a thief on each; this takes a while (minutes on "
                         "LeNet-5 for each lock, much longer on large networks).")
                          .arg(locks));
    m_progress->setValue(0);
    m_job->start<FrontierResult>(
        [model = m_document->model(), train = m_document->train(), test = m_document->test(), options](
            Progress &progress) { return frontierAnalysis(model, *train, *test, options, progress); },
        [this](FrontierResult result) {
            m_progress->setValue(1000);
            m_progress->setFormat(QStringLiteral("%p%"));
            m_status->setText(tr("Done in %1 s (%2 training runs).").arg(result.seconds, 0, 'f', 0).arg(result.runs));
            show(result);
            m_result = std::move(result);
            updateButtons();
            emit finished();
        });
    updateButtons();
}

void FrontierPage::cancel()
{
    m_job->cancel();
}

void FrontierPage::show(const FrontierResult &r)
{
    m_weights->setResult(r);
    m_stealth->setResult(r);
    m_summary->setText(tr("<b>%1</b> With k = %2 images a thief trains the same network from scratch to %3; the "
                          "original scores %4.")
                           .arg(QString::fromStdString(frontierSummary(r)).toHtmlEscaped())
                           .arg(r.size)
                           .arg(percent(r.scratch.accuracy))
                           .arg(percent(r.victimAccuracy)));
    const QStringList columns{tr("Lock"), tr("Weights changed"), tr("Key (bytes)"), tr("Locked, no data"),
        tr("Thief with k (A_att)"), tr("R"), tr("Advantage"), tr("Stealth score"), tr("Mean / std shift"),
        tr("Out of range"), tr("Kernel smoothness (before → after)"), tr("Lock (s)")};
    m_table->clear();
    m_table->setColumnCount(int(columns.size()));
    m_table->setHorizontalHeaderLabels(columns);
    m_table->setRowCount(int(r.points.size()));
    for (size_t i = 0; i < r.points.size(); ++i) {
        const FrontierPoint &p = r.points[i];
        const double share = p.parameterCount > 0 ? double(p.weightsChanged) / double(p.parameterCount) : 0.0;
        const QStringList cells{
            QString::fromStdString(p.candidate.label) + (p.weakness.empty() ? QString() : tr(" (weak)")),
            tr("%1 (%2)").arg(p.weightsChanged).arg(QString::fromStdString(percentText(share, 2))),
            QString::number(p.keyBytes), percent(p.lockedAccuracy), percent(p.attacker.accuracy), number2(p.ratio),
            std::isnan(p.advantage) ? QStringLiteral("n/a") : percent(p.advantage), number2(p.stealth.score()),
            tr("%1 / %2").arg(number2(p.stealth.meanShift), number2(p.stealth.stdShift)),
            number2(p.stealth.rangeExcess),
            p.stealth.correlationDrop > 0.0
                ? tr("%1 → %2").arg(number2(p.stealth.correlationBefore), number2(p.stealth.correlationAfter))
                : tr("kept"),
            QString::number(p.lockSeconds, 'f', 1)};
        for (int c = 0; c < cells.size(); ++c) {
            auto *item = new QTableWidgetItem(cells[c]);
            if (c == 0 && !p.weakness.empty())
                item->setToolTip(QString::fromStdString(p.weakness));
            if (c == 7)
                item->setToolTip(tr("Largest of: mean shift, std shift (in units of the layer's std), out of range (in "
                                    "units of the layer's range), kernel smoothness lost; worst layer %1.")
                                     .arg(QString::fromStdString(p.stealth.worstLayer)));
            m_table->setItem(int(i), c, item);
        }
    }
    m_table->resizeColumnsToContents();
}

void FrontierPage::updateButtons()
{
    const bool ready = m_document->hasModel() && m_document->hasDataset();
    const bool running = isRunning();
    m_run->setEnabled(ready && !running);
    m_cancel->setEnabled(running);
    m_k->setEnabled(!running);
    m_evalImages->setEnabled(!running);
    if (!running && m_status->text().isEmpty())
        m_status->setText(ready ? tr("Ready: press Compare Locks.") : tr("Open a model and its data first."));
}

} // namespace paramlock
