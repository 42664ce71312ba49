#pragma once

#include "frontier.h"

#include <QWidget>

#include <optional>

class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace paramlock {

class FrontierChart;
class Job;
class LockDocument;

/**
 * "Which lock should I choose?": locks a copy of the open model with every method and setting in a worker thread
 * (progress and cancel), and shows where each lock stands: the weights it changes and what it leaves a thief with k
 * labelled images, how visible it is, and a table with the key sizes and every stealth check.
 */
class FrontierPage : public QWidget
{
    Q_OBJECT
public:
    explicit FrontierPage(LockDocument *document, QWidget *parent = nullptr);
    ~FrontierPage() override;

    /** Starts the comparison on the open model and data; finished() or failed() follows. */
    void run();
    void cancel();
    bool isRunning() const;
    /** The locks compared and the sweep (k and the test images come from the page's fields); default: all. */
    void setOptions(const FrontierOptions &options) { m_options = options; }
    void setThiefImages(int k);
    void setEvaluationLimit(int images);

    const FrontierResult *result() const { return m_result ? &*m_result : nullptr; }
    FrontierChart *weightsChart() const { return m_weights; }
    FrontierChart *stealthChart() const { return m_stealth; }
    QTableWidget *table() const { return m_table; }

signals:
    void finished();
    void failed(const QString &message);

private:
    void show(const FrontierResult &result);
    void updateButtons();

    LockDocument *m_document;
    FrontierOptions m_options;
    std::optional<FrontierResult> m_result;
    QSpinBox *m_k;
    QSpinBox *m_evalImages;
    QPushButton *m_run;
    QPushButton *m_cancel;
    QProgressBar *m_progress;
    QLabel *m_status;
    FrontierChart *m_weights;
    FrontierChart *m_stealth;
    QLabel *m_summary;
    QTableWidget *m_table;
    Job *m_job;
};

} // namespace paramlock
