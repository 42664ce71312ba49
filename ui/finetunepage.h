#pragma once

#include <QWidget>

#include <cstdint>
#include <initializer_list>

class QHBoxLayout;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace paramlock {

class Job;
class LockDocument;

/**
 * What the pages that fine-tune a copy of the open model share (licences, fingerprints): the fine-tuning's epochs
 * and training images, the run / cancel / present / save buttons beside a progress bar, the status and summary
 * lines, one worker job for the fine-tuning and one for the files, and starting over when the open model or dataset
 * changes. A page builds its own form and results around these and says what running, presenting and saving mean.
 */
class FineTunePage : public QWidget
{
    Q_OBJECT
public:
    ~FineTunePage() override;

    /** Fine-tunes a copy of the open model in the background (progress and cancel). */
    virtual void run() = 0;
    /** The page's story full screen, for people who do not read code (after a run). */
    virtual void present(int firstPage = 0) = 0;
    void cancel();
    bool isRunning() const;
    void setEpochs(int epochs);
    void setTrainImages(int images);

signals:
    void finished();
    void failed(const QString &message);

protected:
    FineTunePage(LockDocument *document, int epochs, int64_t trainImages, QWidget *parent);

    virtual bool hasResult() const = 0;
    /** Forgets the result and empties the result widgets (the job has stopped). */
    virtual void clearResult() = 0;
    virtual void save() = 0;
    /** Enables the buttons for the page's state; a page with more buttons extends it. */
    virtual void updateButtons();

    /** Run, cancel, the progress bar, then `extra`, then present and save. */
    QHBoxLayout *buttonRow(std::initializer_list<QWidget *> extra = {});
    /** Puts `content` in a scroll area that fills the page. */
    void setContent(QWidget *content);
    /** Shows `message` and an empty progress bar as a run starts. */
    void starting(const QString &message);
    /** Shows `message` and a full progress bar as a run ends. */
    void ended(const QString &message);

    LockDocument *m_document;
    QSpinBox *m_epochs;
    QSpinBox *m_trainImages;
    QPushButton *m_run;
    QPushButton *m_cancel;
    QPushButton *m_save;
    QPushButton *m_present;
    QProgressBar *m_progress;
    QLabel *m_status;
    QLabel *m_summary;
    Job *m_job;
    Job *m_files;
};

} // namespace paramlock
