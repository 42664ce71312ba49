#pragma once

#include <QDialog>

class QCheckBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;

/**
 * Asked before a key is saved: a password (typed twice) and whom the key is
 * for, or an explicit choice to save it unprotected.
 */
class KeyProtectionDialog : public QDialog
{
    Q_OBJECT

public:
    explicit KeyProtectionDialog(QWidget *parent = nullptr);

    /** Empty when the user chose to save without a password. */
    QString password() const;
    QString recipient() const;
    bool unprotected() const;

    // For tests.
    void setPasswords(const QString &first, const QString &second);
    void setUnprotected(bool on);
    bool canAccept() const;

private:
    void validate();

    QLineEdit *m_password;
    QLineEdit *m_repeat;
    QLineEdit *m_recipient;
    QCheckBox *m_unprotected;
    QLabel *m_hint;
    QDialogButtonBox *m_buttons;
};
