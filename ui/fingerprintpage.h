#pragma once

#include "finetunepage.h"
#include "fingerprint.h"
#include "presentationview.h"

#include <optional>

class QLabel;
class QLineEdit;
class QPushButton;
class QTableWidget;

namespace paramlock {

class AnalysisChart;

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
class FingerprintPage : public FineTunePage
{
    Q_OBJECT
public:
    explicit FingerprintPage(LockDocument *document, QWidget *parent = nullptr);
    ~FingerprintPage() override;

    void run() override;
    /** The fingerprints' story full screen, for people who do not read code (after an embedding). */
    void present(int firstPage = 0) override;
    /** Checks a model file against the current registry (the page's embedding or an opened registry). */
    void verify(const QString &modelPath);
    void setUsers(const QString &text);
    const FingerprintDemo *result() const { return m_result ? &*m_result : nullptr; }
    const FingerprintReport *shownReport() const { return m_shown ? &*m_shown : nullptr; }

signals:
    void verified();

protected:
    bool hasResult() const override { return m_result.has_value(); }
    void clearResult() override;
    void save() override;
    void updateButtons() override;

private:
    void showReport(const FingerprintReport &report, const QString &who);
    void showTriggers();
    void openRegistry();

    std::optional<FingerprintDemo> m_result;
    std::optional<SecretKey> m_registry; ///< what a verification checks against
    std::optional<FingerprintReport> m_shown;
    QLineEdit *m_users;
    QPushButton *m_verify;
    QPushButton *m_openRegistry;
    QTableWidget *m_table;
    AnalysisChart *m_chart;
    QLabel *m_trigger;
    QLabel *m_fingerprint;
    QLabel *m_fingerprintCaption;
};

} // namespace paramlock
