#include "lockpage.h"

#include "charts.h"
#include "layertablemodel.h"
#include "lockdocument.h"
#include "lockjob.h"
#include "messagebar.h"
#include "parameterform.h"
#include "text.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QVBoxLayout>

namespace paramlock {

LockPage::LockPage(LockDocument *document, LayerTableModel *layers, MessageBar *messages, QWidget *parent)
    : QWidget(parent), m_document(document), m_layers(layers), m_messages(messages), m_job(new LockJob(this))
{
    m_method = new QComboBox(this);
    for (const ProtectionMethod *m : methods())
        if (m->can(Capability::Lock)) {
            m_method->addItem(QString::fromStdString(m->name()), QString::fromStdString(m->id()));
            m_method->setItemData(m_method->count() - 1, QString::fromStdString(m->summary()), Qt::ToolTipRole);
        }
    m_method->setToolTip(tr("The protection method: each has its own settings below."));
    m_form = new ParameterForm(this);
    m_form->setTickedLayers([this] { return m_layers->checkedLayers(); });
    m_seed = new QSpinBox(this);
    m_seed->setRange(0, 1000000);
    m_seed->setToolTip(tr("The secret seed: it draws the lock's training images and its random choices."));
    m_allowUntrained = new QCheckBox(tr("Allow a model that is no better than random guess"), this);
    m_allowUntrained->setToolTip(tr("Such a model is usually untrained or fed the wrong data; lock it anyway."));
    m_form->addFixedRow(tr("Method"), m_method, true);
    m_form->addFixedRow(tr("Seed"), m_seed, false);
    m_form->addFixedRow(QString(), m_allowUntrained, false);

    m_run = new QPushButton(tr("Lock the model"), this);
    m_run->setDefault(true);
    m_cancel = new QPushButton(tr("Cancel"), this);
    connect(m_run, &QPushButton::clicked, this, &LockPage::runLock);
    connect(m_cancel, &QPushButton::clicked, this, &LockPage::cancelLock);
    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    m_progress->setTextVisible(true);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_run);
    buttons->addWidget(m_cancel);
    buttons->addWidget(m_progress, 1);
    m_lossChart = new LossChart(this);

    // The form scrolls beside the live chart: a method with many settings (NNSplitter) keeps the chart in view.
    auto *formArea = new QScrollArea(this);
    formArea->setWidget(m_form);
    formArea->setWidgetResizable(true);
    formArea->setFrameShape(QFrame::NoFrame);
    formArea->setMinimumWidth(580);
    formArea->setSizePolicy(QSizePolicy::Minimum, QSizePolicy::Expanding);
    auto *top = new QHBoxLayout;
    top->addWidget(formArea);
    top->addWidget(m_lossChart, 1);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(buttons);
    layout->addLayout(top, 1);

    connect(m_method, &QComboBox::currentIndexChanged, this, &LockPage::buildForm);
    connect(m_job, &LockJob::progressChanged, this, [this](double fraction, const QString &label) {
        m_progress->setValue(int(fraction * 1000));
        m_progress->setFormat(label + QStringLiteral(" — %p%"));
    });
    connect(m_job, &LockJob::stepDone, m_lossChart, &LossChart::addStep);
    connect(m_job, &LockJob::finished, this, [this](std::shared_ptr<const LockOutcome> outcome) {
        m_progress->setValue(1000);
        m_progress->setFormat(tr("done in %1 s").arg(outcome->result.seconds, 0, 'f', 2));
        m_document->setOutcome(outcome);
        updateButtons();
        emit lockFinished();
    });
    connect(m_job, &LockJob::failed, this, [this](const QString &message) {
        const bool cancelled = message.contains(QLatin1String("cancelled"));
        m_messages->show(cancelled ? MessageBar::Kind::Warning : MessageBar::Kind::Error,
            cancelled ? tr("Locking cancelled; the model is untouched.") : message);
        m_progress->setValue(0);
        m_progress->setFormat(QString());
        updateButtons();
        emit lockStopped();
    });
    connect(m_document, &LockDocument::modelChanged, this, &LockPage::updateButtons);
    connect(m_document, &LockDocument::datasetChanged, this, &LockPage::updateButtons);
    buildForm();
    updateButtons();
}

const ProtectionMethod &LockPage::method() const
{
    const ProtectionMethod *m = methodById(m_method->currentData().toString().toStdString());
    return m ? *m : defaultMethod();
}

bool LockPage::selectMethod(const std::string &id)
{
    const int index = m_method->findData(QString::fromStdString(id));
    if (index < 0)
        return false;
    m_method->setCurrentIndex(index);
    return true;
}

bool LockPage::setParameter(const std::string &name, const std::string &value)
{
    return m_form->setText(name, value);
}

void LockPage::buildForm()
{
    const ProtectionMethod *m = &method();
    m_form->setParameters(m->parameters(), [m](const std::string &mode) { return m->modeDefaults(mode); });
    LockRequest request;
    request.values = m_form->values();
    m_lossChart->start(m->lockChart(request));
}

bool LockPage::runLock()
{
    if (!m_document->hasModel() || !m_document->hasDataset() || m_job->isRunning())
        return false;
    if (m_form->wantsTickedLayersButHasNone()) {
        m_messages->show(MessageBar::Kind::Error,
            tr("No layer is ticked: tick at least one layer in the table, or choose All or Random."));
        return false;
    }
    LockRequest request;
    request.values = m_form->values();
    request.seed = uint64_t(m_seed->value());
    const ProtectionMethod &m = method();
    if (auto ok = m.validate(request); !ok) {
        m_messages->show(MessageBar::Kind::Error, QString::fromStdString(ok.error()));
        return false;
    }
    WorkflowOptions options;
    options.previewCount = 12;
    options.allowUntrained = m_allowUntrained->isChecked();
    m_messages->hide();
    m_lossChart->start(m.lockChart(request));
    if (!m_job->start(m_document->model(), m_document->train(), m_document->test(), m, request, options))
        return false;
    updateButtons();
    emit lockStarted();
    return true;
}

void LockPage::cancelLock()
{
    m_job->cancel();
}

bool LockPage::isRunning() const
{
    return m_job->isRunning();
}

void LockPage::updateButtons()
{
    const bool running = m_job->isRunning();
    m_run->setEnabled(m_document->hasModel() && m_document->hasDataset() && !running);
    m_cancel->setEnabled(running);
    m_method->setEnabled(!running);
    m_form->setEnabled(!running);
}

} // namespace paramlock
