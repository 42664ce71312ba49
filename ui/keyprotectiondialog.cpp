#include "keyprotectiondialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

KeyProtectionDialog::KeyProtectionDialog(QWidget *parent) : QDialog(parent)
{
    setWindowTitle(tr("Protect the Secret Key"));
    auto *intro = new QLabel(tr("Whoever reads the key file can unlock the model. A password encrypts the key "
                                "(Argon2id and XChaCha20-Poly1305); without it the key cannot be used."),
        this);
    intro->setWordWrap(true);
    m_password = new QLineEdit(this);
    m_password->setEchoMode(QLineEdit::Password);
    m_repeat = new QLineEdit(this);
    m_repeat->setEchoMode(QLineEdit::Password);
    m_recipient = new QLineEdit(this);
    m_recipient->setPlaceholderText(tr("optional, e.g. ACME Corp licence 7"));
    m_recipient->setToolTip(tr("Shown by 'paramlock-cli key info' so that keys issued to different people can be "
                               "told apart."));
    m_unprotected = new QCheckBox(tr("Save without a password (anyone with the file can unlock the model)"), this);
    m_hint = new QLabel(this);
    m_hint->setWordWrap(true);
    QPalette warn = m_hint->palette();
    warn.setColor(QPalette::WindowText, QColor(0xb0, 0x3a, 0x2e));
    m_hint->setPalette(warn);
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    m_buttons->button(QDialogButtonBox::Ok)->setText(tr("Continue"));

    auto *form = new QFormLayout;
    form->addRow(tr("&Password:"), m_password);
    form->addRow(tr("&Repeat:"), m_repeat);
    form->addRow(tr("Issued &to:"), m_recipient);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addLayout(form);
    layout->addWidget(m_unprotected);
    layout->addWidget(m_hint);
    layout->addWidget(m_buttons);

    connect(m_password, &QLineEdit::textChanged, this, &KeyProtectionDialog::validate);
    connect(m_repeat, &QLineEdit::textChanged, this, &KeyProtectionDialog::validate);
    connect(m_unprotected, &QCheckBox::toggled, this, &KeyProtectionDialog::validate);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    validate();
}

QString KeyProtectionDialog::password() const
{
    return m_unprotected->isChecked() ? QString() : m_password->text();
}

QString KeyProtectionDialog::recipient() const
{
    return m_recipient->text().trimmed();
}

bool KeyProtectionDialog::unprotected() const
{
    return m_unprotected->isChecked();
}

void KeyProtectionDialog::setPasswords(const QString &first, const QString &second)
{
    m_password->setText(first);
    m_repeat->setText(second);
}

void KeyProtectionDialog::setUnprotected(bool on)
{
    m_unprotected->setChecked(on);
}

bool KeyProtectionDialog::canAccept() const
{
    return m_buttons->button(QDialogButtonBox::Ok)->isEnabled();
}

void KeyProtectionDialog::validate()
{
    const bool off = m_unprotected->isChecked();
    m_password->setEnabled(!off);
    m_repeat->setEnabled(!off);
    m_recipient->setEnabled(!off);
    QString hint;
    if (!off && m_password->text().isEmpty())
        hint = tr("Type a password, or choose to save without one.");
    else if (!off && m_password->text() != m_repeat->text())
        hint = tr("The two passwords differ.");
    else if (!off && m_password->text().size() < 8)
        hint = tr("Short passwords are guessed quickly; 12 or more characters are better.");
    else if (off)
        hint = tr("The key will be written in the clear.");
    m_hint->setText(hint);
    const bool ok = off || (!m_password->text().isEmpty() && m_password->text() == m_repeat->text());
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(ok);
}
