#include "presentationview.h"

#include "dataset.h"
#include "imagedecoding.h"
#include "text.h"
#include "training.h"

#include <QGridLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLocale>
#include <QPushButton>
#include <QScreen>
#include <QStackedWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <numeric>

namespace paramlock {

namespace {
constexpr int64_t kShown = 6; ///< images per slide

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

std::vector<int32_t> answersOf(const Model &model, const Dataset &images)
{
    std::vector<int32_t> out;
    if (auto p = predict(model, images))
        for (const Prediction &x : *p)
            out.push_back(x.label);
    return out;
}

std::vector<PresentationSlide> lockStory(
    const LockOutcome &outcome, const Dataset &test, double unlockedAccuracy, const QString &protectionLevel)
{
    const auto pct = [](double a) { return percentString(a, 1, true); };
    const QString green = QStringLiteral("#15803d"), red = QStringLiteral("#b91c1c");
    std::vector<int64_t> first(size_t(std::min<int64_t>(kShown, test.size())));
    std::iota(first.begin(), first.end(), int64_t(0));
    const Dataset shown = test.subset(first);
    std::vector<PresentationSlide> story;
    story.push_back({QObject::tr("A trained model, ready to use"), pct(outcome.accuracyBefore), green,
        QObject::tr("of the test images are recognised correctly."), {}, {}, shown, outcome.predictionsBefore, {}});
    story.push_back({QObject::tr("Locked: %1 of %2 weights changed")
                         .arg(outcome.result.encryptedCount())
                         .arg(QLocale().toString(qlonglong(outcome.result.key.parameterCount))),
        pct(outcome.accuracyAfter), red,
        QObject::tr("correct: no better than guessing. A copy of this file is worthless, and its weights look exactly "
                    "like before."),
        {}, {}, shown, outcome.predictionsAfter, {}});
    story.push_back({QObject::tr("Unlocked with the secret key"), pct(unlockedAccuracy), green,
        QObject::tr("correct again: the key restores the original model bit for bit."), {}, {}, shown,
        outcome.predictionsBefore, {}});
    if (!protectionLevel.isEmpty())
        story.push_back({QObject::tr("And a thief who has labelled data?"), QString(), QStringLiteral("#1d4ed8"),
            protectionLevel, {}, {}, {}, {}, {}});
    return story;
}

PresentationView::PresentationView(const LockOutcome &outcome, const Dataset &test, double unlockedAccuracy,
    const QString &protectionLevel, QWidget *parent)
    : PresentationView(lockStory(outcome, test, unlockedAccuracy, protectionLevel), parent)
{ }

PresentationView::PresentationView(const std::vector<PresentationSlide> &slides, QWidget *parent)
    : QDialog(parent), m_pages(new QStackedWidget(this)), m_back(new QPushButton(tr("◀ Back"), this)),
      m_next(new QPushButton(tr("Next ▶"), this))
{
    setWindowTitle(tr("ParamLock — presentation"));
    for (const PresentationSlide &slide : slides)
        m_pages->addWidget(page(slide));
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

QWidget *PresentationView::page(const PresentationSlide &slide)
{
    auto *w = new QWidget;
    auto *layout = new QVBoxLayout(w);
    layout->addStretch();
    layout->addWidget(text(slide.headline, 2.4, true));
    if (!slide.figure.isEmpty()) {
        QLabel *big = text(slide.figure, 6.0, true);
        big->setStyleSheet(QStringLiteral("color: %1").arg(slide.colour));
        layout->addWidget(big);
    }
    layout->addWidget(text(slide.caption, 1.8));
    if (!slide.picture.isNull()) {
        auto *picture = new QLabel;
        picture->setPixmap(
            QPixmap::fromImage(slide.picture.scaled(168, 168, Qt::KeepAspectRatio, Qt::FastTransformation)));
        picture->setAlignment(Qt::AlignCenter);
        layout->addSpacing(12);
        layout->addWidget(picture);
        if (!slide.pictureCaption.isEmpty())
            layout->addWidget(text(slide.pictureCaption, 1.2));
    }
    const Dataset &test = slide.images;
    auto *grid = new QGridLayout;
    const size_t n = std::min({size_t(kShown), slide.answers.size(), size_t(test.size())});
    for (size_t i = 0; i < n; ++i) {
        auto *image = new QLabel;
        image->setPixmap(picture(test, int64_t(i), 112));
        image->setAlignment(Qt::AlignCenter);
        const int p = slide.answers[i];
        const bool right = p == (i < slide.expected.size() ? slide.expected[i] : test.labels[i]);
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

void PresentationView::present(const std::vector<PresentationSlide> &slides, int firstPage, QWidget *parent)
{
    PresentationView view(slides, parent);
    for (int i = 0; i < firstPage; ++i)
        view.next();
    view.setGeometry(parent->screen()->geometry());
    view.showFullScreen();
    view.exec();
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
