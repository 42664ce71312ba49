#pragma once

#include "analysis.h"
#include "dataset.h"
#include "lockworkflow.h"
#include "model.h"

#include <QWidget>

#include <memory>
#include <optional>

class QComboBox;
class QLabel;
class QListWidget;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace paramlock {

class AnalysisChart;
class Job;

/**
 * "How strong is this lock?": runs the experiments and attacks on the last
 * lock in a worker thread (with progress and cancel), shows each result as a
 * chart and a table, and exports them with the lock's figures as an HTML and
 * PDF report.
 */
class AnalysisPage : public QWidget
{
    Q_OBJECT
public:
    explicit AnalysisPage(QWidget *parent = nullptr);
    ~AnalysisPage() override;

    /** The lock to analyse; the sweeps reuse the training images the lock used, taken from `train`. */
    void setLock(const Model &original, std::shared_ptr<const LockOutcome> outcome,
        std::shared_ptr<const Dataset> train, std::shared_ptr<const Dataset> test, const QString &modelName);
    bool hasLock() const { return m_outcome != nullptr; }

    /** Starts one analysis ("finetune", "prune", ...); finished() or failed() follows. */
    void run(const QString &kind);
    void cancel();
    bool isRunning() const;
    void setFineTuneEpochs(int epochs);
    void setEvaluationLimit(int images);

    const std::vector<Analysis> &results() const { return m_results; }
    AnalysisChart *chart() const { return m_chart; }
    /** Writes `htmlPath` and a PDF beside it (same name, .pdf). */
    Expected<void> exportReport(const QString &htmlPath);

signals:
    void finished(const QString &kind);
    /** An analysis that answers "is stealing worth it?" finished: its plain-words protection level. */
    void protectionLevelMeasured(const QString &text);
    void failed(const QString &message);

private:
    void show(int index);
    void updateButtons();
    void exportWithDialog();

    Model m_original;
    std::shared_ptr<const LockOutcome> m_outcome;
    std::shared_ptr<const Dataset> m_encryptionSet;
    std::shared_ptr<const Dataset> m_test;
    std::shared_ptr<const Dataset> m_train;
    QString m_modelName;
    QString m_datasetName;
    std::vector<Analysis> m_results;

    QComboBox *m_kind;
    QSpinBox *m_epochs;
    QSpinBox *m_evalImages;
    QPushButton *m_run;
    QPushButton *m_cancel;
    QPushButton *m_export;
    QProgressBar *m_progress;
    QLabel *m_status;
    QListWidget *m_list;
    AnalysisChart *m_chart;
    QLabel *m_explanation;
    QTableWidget *m_table;
    Job *m_job;
};

} // namespace paramlock
