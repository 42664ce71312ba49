#pragma once

#include "finetunepage.h"
#include "presentationview.h"
#include "securenet.h"

#include <cstdint>
#include <optional>

class QComboBox;
class QGridLayout;
class QLabel;
class QLineEdit;
class QSpinBox;
class QTableWidget;

namespace paramlock {

/** A licensed copy of the open model and what it answers, for the page and its tests. */
struct LicenceDemo
{
    LicenceLock lock;
    Licence licence; ///< the first licensee's
    InputStamp forged; ///< a pattern of the same kind from a random secret
    int64_t images = 0; ///< test images the accuracies are measured on
    double original = 0.0, withLicence = 0.0, withoutLicence = 0.0, withForged = 0.0;
    double originalOnScheme = 0.0; ///< the original scored as the first licence is (its classes, its groups)
    std::vector<LicenseeMeasure> licensees; ///< every licensee, beside the original scored as their licence is
    std::vector<int32_t> without, with, forgedAnswers; ///< the answers for the first test images shown
    std::vector<int32_t> originalAnswers; ///< the original model's, for the same images
};

/** The licence's story for the presentation view: the model works, without a licence it does not, the licence (its
 * pattern) brings it back, a forged one does not. `test`: the test set the demo's answers were taken on. */
std::vector<PresentationSlide> licenceStory(const LicenceDemo &demo, const Dataset &test);

/**
 * Licences in the input (SecureNet): licenses a copy of the open model in a worker thread (progress and cancel) for
 * the licensees typed, then shows what the licensed model answers for test images without a licence, with the first
 * licensee's licence and with a forged one, the licence pattern (amplified), and saves the licensed model with the
 * owner's registry.
 */
class LicencePage : public FineTunePage
{
    Q_OBJECT
public:
    explicit LicencePage(LockDocument *document, QWidget *parent = nullptr);
    ~LicencePage() override;

    void run() override;
    /** The licence's story full screen, for people who do not read code (after a licence has been made). */
    void present(int firstPage = 0) override;
    void setLicensees(const QString &text);
    /**
     * Draws the owner's secret and the forged licence's from `seed` instead of the system's random source, so that a
     * demonstration (or a test) licenses the same way every time. A licence meant for use keeps the default (none).
     */
    void setSecretSeed(std::optional<uint64_t> seed) { m_secretSeed = seed; }
    const LicenceDemo *result() const { return m_result ? &*m_result : nullptr; }

protected:
    bool hasResult() const override { return m_result.has_value(); }
    void clearResult() override;
    void save() override;

private:
    void show(const LicenceDemo &demo);

    std::optional<LicenceDemo> m_result;
    std::optional<uint64_t> m_secretSeed;
    QLineEdit *m_licensees;
    QComboBox *m_pattern;
    QSpinBox *m_evalImages;
    QLabel *m_patternPicture;
    QGridLayout *m_grid;
    QTableWidget *m_table;
};

} // namespace paramlock
