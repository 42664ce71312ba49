#pragma once

#include "lockworkflow.h"

#include <QDialog>

class QLabel;
class QPushButton;
class QStackedWidget;

namespace paramlock {

struct Dataset;

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

    int pageCount() const;
    int currentPage() const;
    void next();
    void previous();

protected:
    void keyPressEvent(QKeyEvent *event) override;

private:
    QWidget *page(const QString &headline, const QString &figure, const QString &colour, const QString &caption,
        const Dataset &test, const std::vector<int32_t> &predictions);
    void updateButtons();

    QStackedWidget *m_pages;
    QPushButton *m_back;
    QPushButton *m_next;
};

} // namespace paramlock
