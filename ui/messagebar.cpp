#include "messagebar.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>

namespace paramlock {

MessageBar::MessageBar(QWidget *parent) : QFrame(parent), m_label(new QLabel(this))
{
    setObjectName(QStringLiteral("messageBar"));
    m_label->setWordWrap(true);
    m_label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *close = new QToolButton(this);
    close->setText(QStringLiteral("✕"));
    close->setAutoRaise(true);
    close->setToolTip(tr("Dismiss"));
    connect(close, &QToolButton::clicked, this, &QWidget::hide);
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(10, 6, 6, 6);
    layout->addWidget(m_label, 1);
    layout->addWidget(close);
    hide();
}

void MessageBar::show(Kind kind, const QString &text)
{
    m_kind = kind;
    static const char *colours[] = {
        "#dbeafe; color: #1e3a8a", "#dcfce7; color: #14532d", "#fef9c3; color: #713f12", "#fee2e2; color: #7f1d1d"};
    setStyleSheet(QStringLiteral("#messageBar { background: %1; border-radius: 4px; } QLabel { color: inherit; }")
                      .arg(QLatin1String(colours[int(kind)])));
    m_label->setText(text);
    QFrame::show();
}

QString MessageBar::text() const
{
    return m_label->text();
}

} // namespace paramlock
