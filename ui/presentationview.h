#pragma once

#include "dataset.h"
#include "lockworkflow.h"

#include <QDialog>
#include <QImage>

#include <vector>

class QLabel;
class QPushButton;
class QStackedWidget;

namespace paramlock {

/** One step of a presentation: a headline, a big figure, a caption, a picture and images with the model's answers. */
struct PresentationSlide
{
    QString headline;
    QString figure; ///< the big number ("91.1 %"); empty: none
    QString colour; ///< the figure's colour
    QString caption;
    QImage picture; ///< shown large under the caption where given (a licence pattern, a trigger)
    QString pictureCaption;
    Dataset images; ///< the first six are shown, each with its answer
    std::vector<int32_t> answers;
    std::vector<int32_t> expected; ///< the answers marked ✔ (empty: the images' true classes)
};

/** The classes `model` answers for `images` (empty when it cannot run them), for a slide's answers. */
std::vector<int32_t> answersOf(const Model &model, const Dataset &images);

/** The lock's story: the model works, the locked copy is useless, the key brings it back (and what a thief gets). */
std::vector<PresentationSlide> lockStory(
    const LockOutcome &outcome, const Dataset &test, double unlockedAccuracy, const QString &protectionLevel = {});

/**
 * Full-screen, large-type story for people who do not read code: the model
 * works, the locked copy is useless, the key brings it back. One step per page.
 */
class PresentationView : public QDialog
{
    Q_OBJECT
public:
    /** `protectionLevel`: the advantage analysis's plain words, a last page where given. */
    PresentationView(const LockOutcome &outcome, const Dataset &test, double unlockedAccuracy,
        const QString &protectionLevel = {}, QWidget *parent = nullptr);
    /** Any story: the licence and fingerprint pages tell theirs. */
    explicit PresentationView(const std::vector<PresentationSlide> &slides, QWidget *parent = nullptr);

    /** Tells `slides` full screen on `parent`'s screen from `firstPage` on, until the audience closes it. */
    static void present(const std::vector<PresentationSlide> &slides, int firstPage, QWidget *parent);

    int pageCount() const;
    int currentPage() const;
    void next();
    void previous();

protected:
    void keyPressEvent(QKeyEvent *event) override;

private:
    QWidget *page(const PresentationSlide &slide);
    void updateButtons();

    QStackedWidget *m_pages;
    QPushButton *m_back;
    QPushButton *m_next;
};

} // namespace paramlock
