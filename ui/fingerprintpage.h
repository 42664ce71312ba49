#pragma once

#include "fingerprint.h"
#include "presentationview.h"

#include <QWidget>

#include <optional>

class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace paramlock {

class AnalysisChart;
class Job;
class LockDocument;

/** A fingerprinted copy of the open model and what the checks say, for the page and its tests. */
struct FingerprintDemo
{
    FingerprintEmbedding embedding;
    FingerprintReport marked; ///< the fingerprinted model
    FingerprintReport original; ///< the open model, never fingerprinted: the baseline
    int64_t images = 0; ///< test images the accuracies are measured on
    double originalAccuracy = 0.0, markedAccuracy = 0.0;
    /// The fingerprinted model's answers for the first carriers stamped with the owner's trigger and with the first
    /// user's fingerprint.
    std::vector<int32_t> ownerAnswers, userAnswers;
};

/** The fingerprints' story for the presentation view: accuracy kept, ownership proven, users recognised, forgeries
 * refused. */
std::vector<PresentationSlide> fingerprintStory(const FingerprintDemo &demo);

/**
 * User fingerprints (TrustCom 2020): embeds the typed users' fingerprints into a copy of the open model in a worker
 * thread (progress and cancel), lists the users with their subsets and detection rates, charts the detection rate of
 * the owner's trigger, every user and forged fingerprints, shows the trigger images, verifies a suspect model file
 * against the registry, and saves the fingerprinted model with the owner's registry.
 */
class FingerprintPage : public QWidget
{
    Q_OBJECT
public:
    explicit FingerprintPage(LockDocument *document, QWidget *parent = nullptr);
    ~FingerprintPage() override;

    void run();
    void cancel();
    bool isRunning() const;
    /** The fingerprints' story full screen, for people who do not read code (after an embedding). */
    void present(int firstPage = 0);
    /** Checks a model file against the current registry (the page's embedding or an opened registry). */
    void verify(const QString &modelPath);
    void setUsers(const QString &text);
    void setEpochs(int epochs);
    void setTrainImages(int images);
    const FingerprintDemo *result() const { return m_result ? &*m_result : nullptr; }
    const FingerprintReport *shownReport() const { return m_shown ? &*m_shown : nullptr; }

signals:
    void finished();
    void verified();
    void failed(const QString &message);

private:
    void showReport(const FingerprintReport &report, const QString &who);
    void showTriggers();
    void openRegistry();
    void save();
    void updateButtons();

    LockDocument *m_document;
    std::optional<FingerprintDemo> m_result;
    std::optional<SecretKey> m_registry; ///< what a verification checks against
    std::optional<FingerprintReport> m_shown;
    QLineEdit *m_users;
    QSpinBox *m_epochs;
    QSpinBox *m_trainImages;
    QPushButton *m_run;
    QPushButton *m_cancel;
    QPushButton *m_verify;
    QPushButton *m_openRegistry;
    QPushButton *m_save;
    QPushButton *m_present;
    QProgressBar *m_progress;
    QLabel *m_status;
    QLabel *m_summary;
    QTableWidget *m_table;
    AnalysisChart *m_chart;
    QLabel *m_trigger;
    QLabel *m_fingerprint;
    QLabel *m_fingerprintCaption;
    Job *m_job;
    Job *m_files;
};

} // namespace paramlock
