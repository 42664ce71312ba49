#include "presentationview.h"

#include "dataset.h"
#include "imagedecoding.h"
#include "text.h"

#include <QGridLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QStackedWidget>
#include <QVBoxLayout>

namespace paramlock {

namespace {
QLabel *text(const QString &content, double scale, bool bold = false)
{
    auto *label = new QLabel(content);
    QFont f = label->font();
    f.setPointSizeF(f.pointSizeF() * scale);
    f.setBold(bold);
    label->setFont(f);
    label->setAlignment(Qt::AlignCenter);
    label->setWordWrap(true);
    return label;
}

QPixmap picture(const Dataset &data, int64_t index, int side)
{
    return QPixmap::fromImage(
        datasetImage(data, index).scaled(side, side, Qt::KeepAspectRatio, Qt::FastTransformation));
}
} // namespace

PresentationView::PresentationView(const LockOutcome &outcome, const Dataset &test, double unlockedAccuracy,
    const QString &protectionLevel, QWidget *parent)
    : QDialog(parent), m_pages(new QStackedWidget(this)), m_back(new QPushButton(tr("◀ Back"), this)),
      m_next(new QPushButton(tr("Next ▶"), this))
{
    setWindowTitle(tr("ParamLock — presentation"));
    const auto pct = [](double a) { return percentString(a, 1, true); };
    m_pages->addWidget(page(tr("A trained model, ready to use"), pct(outcome.accuracyBefore), QStringLiteral("#15803d"),
        tr("of the test images are recognised correctly."), test, outcome.predictionsBefore));
    m_pages->addWidget(page(tr("Locked: %1 of %2 weights changed")
                                .arg(outcome.result.encryptedCount())
                                .arg(QLocale().toString(qlonglong(outcome.result.key.parameterCount))),
        pct(outcome.accuracyAfter), QStringLiteral("#b91c1c"),
        tr("correct: no better than guessing. A copy of this file is worthless, and its weights look exactly like "
           "before."),
        test, outcome.predictionsAfter));
    m_pages->addWidget(page(tr("Unlocked with the secret key"), pct(unlockedAccuracy), QStringLiteral("#15803d"),
        tr("correct again: the key restores the original model bit for bit."), test, outcome.predictionsBefore));
    if (!protectionLevel.isEmpty())
        m_pages->addWidget(page(
            tr("And a thief who has labelled data?"), QString(), QStringLiteral("#1d4ed8"), protectionLevel, test, {}));

    connect(m_back, &QPushButton::clicked, this, &PresentationView::previous);
    connect(m_next, &QPushButton::clicked, this, &PresentationView::next);
    auto *close = new QPushButton(tr("Close (Esc)"), this);
    connect(close, &QPushButton::clicked, this, &QDialog::accept);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_back);
    buttons->addStretch();
    buttons->addWidget(close);
    buttons->addStretch();
    buttons->addWidget(m_next);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_pages, 1);
    layout->addLayout(buttons);
    updateButtons();
}

QWidget *PresentationView::page(const QString &headline, const QString &figure, const QString &colour,
    const QString &caption, const Dataset &test, const std::vector<int32_t> &predictions)
{
    auto *w = new QWidget;
    auto *layout = new QVBoxLayout(w);
    layout->addStretch();
    layout->addWidget(text(headline, 2.4, true));
    QLabel *big = text(figure, 6.0, true);
    big->setStyleSheet(QStringLiteral("color: %1").arg(colour));
    layout->addWidget(big);
    layout->addWidget(text(caption, 1.8));
    auto *grid = new QGridLayout;
    const size_t n = std::min<size_t>(6, predictions.size());
    for (size_t i = 0; i < n; ++i) {
        auto *image = new QLabel;
        image->setPixmap(picture(test, int64_t(i), 112));
        image->setAlignment(Qt::AlignCenter);
        const int p = predictions[i];
        const bool right = p == test.labels[i];
        const QString name = size_t(p) < test.classNames.size() ? QString::fromStdString(test.classNames[size_t(p)])
                                                                : QString::number(p);
        QLabel *label = text((right ? QStringLiteral("✔ ") : QStringLiteral("✘ ")) + name, 1.5, true);
        label->setStyleSheet(right ? QStringLiteral("color: #15803d") : QStringLiteral("color: #b91c1c"));
        grid->addWidget(image, 0, int(i));
        grid->addWidget(label, 1, int(i));
    }
    layout->addSpacing(24);
    layout->addLayout(grid);
    layout->addStretch();
    return w;
}

int PresentationView::pageCount() const
{
    return m_pages->count();
}

int PresentationView::currentPage() const
{
    return m_pages->currentIndex();
}

void PresentationView::next()
{
    m_pages->setCurrentIndex(std::min(m_pages->currentIndex() + 1, m_pages->count() - 1));
    updateButtons();
}

void PresentationView::previous()
{
    m_pages->setCurrentIndex(std::max(m_pages->currentIndex() - 1, 0));
    updateButtons();
}

void PresentationView::keyPressEvent(QKeyEvent *event)
{
    switch (event->key()) {
    case Qt::Key_Right:
    case Qt::Key_Space:
    case Qt::Key_PageDown:
        next();
        return;
    case Qt::Key_Left:
    case Qt::Key_PageUp:
        previous();
        return;
    default:
        QDialog::keyPressEvent(event);
    }
}

void PresentationView::updateButtons()
{
    m_back->setEnabled(m_pages->currentIndex() > 0);
    m_next->setEnabled(m_pages->currentIndex() + 1 < m_pages->count());
}

} // namespace paramlock
