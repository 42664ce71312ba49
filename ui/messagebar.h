#pragma once

#include <QFrame>

class QLabel;

namespace paramlock {

/** An inline banner for errors, warnings and successes, instead of modal dialogs. */
class MessageBar : public QFrame
{
    Q_OBJECT
public:
    enum class Kind { Information, Success, Warning, Error };
    explicit MessageBar(QWidget *parent = nullptr);

    void show(Kind kind, const QString &text);
    Kind kind() const { return m_kind; }
    QString text() const;

private:
    QLabel *m_label;
    Kind m_kind = Kind::Information;
};

} // namespace paramlock
