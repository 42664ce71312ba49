#include "finetunepage.h"

#include "job.h"
#include "lockdocument.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QVBoxLayout>

namespace paramlock {

FineTunePage::FineTunePage(LockDocument *document, int epochs, int64_t trainImages, QWidget *parent)
    : QWidget(parent), m_document(document), m_job(new Job(this)), m_files(new Job(this))
{
    m_epochs = new QSpinBox(this);
    m_epochs->setRange(1, 1000);
    m_epochs->setValue(epochs);
    m_epochs->setSuffix(tr(" epochs"));
    m_trainImages = new QSpinBox(this);
    m_trainImages->setRange(0, 1000000);
    m_trainImages->setSingleStep(1000);
    m_trainImages->setSpecialValueText(tr("all"));
    m_trainImages->setValue(int(trainImages));
    m_trainImages->setSuffix(tr(" images"));
    m_trainImages->setToolTip(
        tr("Training images the fine-tuning uses, drawn with the seed; all: every training image but the 1,000 held "
           "out for the checks."));
    m_cancel = new QPushButton(tr("Cancel"), this);
    m_run = new QPushButton(this);
    m_run->setDefault(true);
    m_save = new QPushButton(this);
    m_present = new QPushButton(tr("Present…"), this);
    m_progress = new QProgressBar(this);
    m_status = new QLabel(this);
    m_status->setWordWrap(true);
    m_summary = new QLabel(this);
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);

    // The buttons call the page's own run, present and save (virtual: the lambdas dispatch at click time).
    connect(m_run, &QPushButton::clicked, this, [this] { run(); });
    connect(m_cancel, &QPushButton::clicked, this, &FineTunePage::cancel);
    connect(m_save, &QPushButton::clicked, this, [this] { save(); });
    connect(m_present, &QPushButton::clicked, this, [this] { present(); });
    showProgress(m_job, m_progress);
    connect(m_job, &Job::failed, this, [this](const QString &message) {
        m_status->setText(message.contains(QLatin1String("cancelled")) ? tr("Cancelled; nothing changed.") : message);
        updateButtons();
        emit failed(message);
    });
    connect(m_files, &Job::failed, this, [this](const QString &message) { m_status->setText(message); });
    connect(m_files, &Job::ended, this, [this] { updateButtons(); });
    const auto reset = [this] {
        cancel();
        m_job->wait();
        clearResult();
        m_summary->clear();
        m_status->clear();
        updateButtons();
    };
    connect(m_document, &LockDocument::modelChanged, this, reset);
    connect(m_document, &LockDocument::datasetChanged, this, reset);
}

FineTunePage::~FineTunePage() = default;

void FineTunePage::cancel()
{
    m_job->cancel();
}

bool FineTunePage::isRunning() const
{
    return m_job->isRunning();
}

void FineTunePage::setEpochs(int epochs)
{
    m_epochs->setValue(epochs);
}

void FineTunePage::setTrainImages(int images)
{
    m_trainImages->setValue(images);
}

void FineTunePage::updateButtons()
{
    const bool ready = m_document->hasModel() && m_document->hasDataset();
    m_run->setEnabled(ready && !isRunning());
    m_cancel->setEnabled(isRunning());
    m_save->setEnabled(hasResult() && !isRunning() && !m_files->isRunning());
    m_present->setEnabled(hasResult() && !isRunning());
}

QHBoxLayout *FineTunePage::buttonRow(std::initializer_list<QWidget *> extra)
{
    auto *row = new QHBoxLayout;
    row->addWidget(m_run);
    row->addWidget(m_cancel);
    row->addWidget(m_progress, 1);
    for (QWidget *w : extra)
        row->addWidget(w);
    row->addWidget(m_present);
    row->addWidget(m_save);
    return row;
}

void FineTunePage::setContent(QWidget *content)
{
    auto *scroll = new QScrollArea(this);
    scroll->setWidget(content);
    scroll->setWidgetResizable(true);
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->addWidget(scroll);
}

void FineTunePage::starting(const QString &message)
{
    m_status->setText(message);
    m_progress->setValue(0);
}

void FineTunePage::ended(const QString &message)
{
    m_progress->setValue(1000);
    m_progress->setFormat(QStringLiteral("%p%"));
    m_status->setText(message);
}

} // namespace paramlock
