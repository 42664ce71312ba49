#include "unlockpage.h"

#include "atomicfile.h"
#include "job.h"
#include "lockdocument.h"
#include "messagebar.h"
#include "sealedkey.h"
#include "text.h"
#include "training.h"
#include "unlock.h"

#include <QFileDialog>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QVBoxLayout>

namespace paramlock {

UnlockPage::UnlockPage(LockDocument *document, MessageBar *messages, QWidget *parent)
    : QWidget(parent), m_document(document), m_messages(messages), m_job(new Job(this))
{
    auto *intro = new QLabel(tr("Unlock the locked model in memory (after a lock) or open a locked model file, then "
                                "open its key. ParamLock checks the key's fingerprints before anything changes."),
        this);
    intro->setWordWrap(true);
    auto *openModelButton = new QPushButton(tr("Open Locked Model…"), this);
    m_openKey = new QPushButton(tr("Open Key…"), this);
    connect(openModelButton, &QPushButton::clicked, this, &UnlockPage::openModelRequested);
    connect(m_openKey, &QPushButton::clicked, this, [this] {
        const QString path =
            QFileDialog::getOpenFileName(this, tr("Open a key"), {}, tr("ParamLock key (*.json *.key)"));
        if (!path.isEmpty())
            checkKey(path);
    });
    m_keyStatus = new QLabel(tr("No key yet."), this);
    m_keyStatus->setWordWrap(true);
    m_unlock = new QPushButton(tr("Unlock"), this);
    connect(m_unlock, &QPushButton::clicked, this, &UnlockPage::unlockInMemory);
    m_unlockResult = new QLabel(this);
    QFont f = m_unlockResult->font();
    f.setPointSizeF(f.pointSizeF() * 1.6);
    m_unlockResult->setFont(f);
    m_unlockResult->setWordWrap(true);
    m_saveUnlocked = new QPushButton(tr("Save Unlocked Model…"), this);
    connect(m_saveUnlocked, &QPushButton::clicked, this, [this] {
        if (!m_document->unlocked())
            return;
        const QString path =
            QFileDialog::getSaveFileName(this, tr("Save the unlocked model"), {}, tr("TorchScript (*.pt)"));
        if (path.isEmpty())
            return;
        auto saved = m_document->unlocked()->save(path.toStdString(), {m_document->modelPath().toStdString()});
        if (!saved)
            QMessageBox::critical(this, tr("Cannot save"), QString::fromStdString(saved.error()));
        else
            m_messages->show(MessageBar::Kind::Success, tr("Saved %1").arg(path));
    });
    auto *row = new QHBoxLayout;
    row->addWidget(openModelButton);
    row->addWidget(m_openKey);
    row->addWidget(m_unlock);
    row->addWidget(m_saveUnlocked);
    row->addStretch();
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addLayout(row);
    layout->addWidget(m_keyStatus);
    layout->addWidget(m_unlockResult);
    layout->addStretch();

    connect(m_job, &Job::failed, this, [this](const QString &message) {
        m_messages->show(MessageBar::Kind::Error, message);
        updateButtons();
    });
    connect(m_job, &Job::ended, this, &UnlockPage::updateButtons);
    connect(m_document, &LockDocument::keyChanged, this, &UnlockPage::showKey);
    connect(m_document, &LockDocument::modelChanged, this, [this] { m_unlockResult->clear(); });
    connect(m_document, &LockDocument::unlockedChanged, this, &UnlockPage::updateButtons);
    updateButtons();
}

void UnlockPage::showKey()
{
    const auto &key = m_document->key();
    if (!key) {
        m_keyStatus->setText(tr("No key yet."));
    } else if (m_document->outcome() && m_document->outcome()->result.key.checksum() == key->checksum()) {
        m_keyStatus->setText(tr("The key of this lock is in memory: it fits the locked model (fingerprint %1…).")
                                 .arg(QString::fromStdString(key->lockedFingerprint.substr(0, 12))));
    }
    updateButtons();
}

void UnlockPage::checkKey(const QString &keyPath, const QString &password)
{
    auto text = readWholeFile(keyPath.toStdString());
    if (!text) {
        m_messages->show(MessageBar::Kind::Error, QString::fromStdString(text.error()));
        emit keyChecked(false);
        return;
    }
    std::string secret = password.toStdString();
    if (isSealedKey(*text) && secret.empty()) {
        auto info = inspectKey(*text);
        bool ok = false;
        const QString typed = QInputDialog::getText(this, tr("Password-Protected Key"),
            info && !info->recipient.empty()
                ? tr("Password of the key issued to %1:").arg(QString::fromStdString(info->recipient))
                : tr("Password of this key:"),
            QLineEdit::Password, {}, &ok);
        if (!ok)
            return;
        secret = typed.toStdString();
    }
    // Argon2id takes about a second: off the GUI thread.
    const bool started = m_job->start<OpenedKey>(
        [text = *text, secret](Progress &) mutable -> Expected<OpenedKey> {
            OpenedKey opened = openKey(text, secret);
            wipe(secret);
            return opened;
        },
        [this](OpenedKey opened) {
            if (!opened.ok()) {
                m_messages->show(MessageBar::Kind::Error,
                    opened.error == KeyError::WrongPassword ? tr("Wrong password for this key; nothing was unlocked.")
                                                            : QString::fromStdString(opened.message));
                emit keyChecked(false);
                return;
            }
            const KeyFit fit = paramlock::checkKey(m_document->lockedModel(), opened.key);
            m_document->setKey(std::move(opened.key));
            m_keyStatus->setText(QString::fromStdString(fit.message));
            m_messages->show(fit.fits() ? MessageBar::Kind::Success : MessageBar::Kind::Error,
                fit.fits() ? tr("The key fits this model.") : QString::fromStdString(fit.message));
            emit keyChecked(fit.fits());
        });
    wipe(secret);
    if (!started) {
        m_messages->show(MessageBar::Kind::Warning, tr("Still unlocking or checking a key; try again in a moment."));
        return;
    }
    updateButtons();
}

void UnlockPage::unlockInMemory()
{
    if (!m_document->key() || m_job->isRunning())
        return;
    const Model locked = m_document->lockedModel();
    const SecretKey key = *m_document->key();
    const auto test = m_document->test();
    struct Unlocked
    {
        Model model;
        double accuracy = -1.0;
        std::string evaluationError;
    };
    m_unlockResult->setText(tr("Unlocking…"));
    m_job->start<Unlocked>(
        [locked, key, test](Progress &progress) -> Expected<Unlocked> {
            auto restored = unlockModel(locked, key);
            if (!restored)
                return Error{restored.error()};
            Unlocked out{*restored, -1.0, {}};
            if (test) {
                auto eval = evaluate(out.model, *test, {}, &progress);
                if (eval)
                    out.accuracy = eval->accuracy;
                else
                    out.evaluationError = eval.error();
            }
            return out;
        },
        [this](Unlocked result) {
            m_document->setUnlocked(result.model);
            QString text = tr("Unlocked: the weights hash to the original fingerprint, bit for bit.");
            if (result.accuracy >= 0.0)
                text += tr("<br>Test accuracy of the unlocked model: <b>%1</b>")
                            .arg(percentString(result.accuracy, 2, true));
            else if (!result.evaluationError.empty())
                text += tr("<br>Could not evaluate it: %1")
                            .arg(QString::fromStdString(result.evaluationError).toHtmlEscaped());
            m_unlockResult->setText(text);
            m_messages->show(MessageBar::Kind::Success, tr("Model unlocked."));
            emit unlocked();
        });
    updateButtons();
}

void UnlockPage::updateButtons()
{
    const bool busy = m_job->isRunning();
    m_unlock->setEnabled(m_document->key().has_value() && !busy);
    m_openKey->setEnabled(!busy);
    m_saveUnlocked->setEnabled(m_document->unlocked().has_value() && !busy);
}

} // namespace paramlock
