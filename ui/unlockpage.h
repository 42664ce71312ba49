#pragma once

#include <QWidget>

class QLabel;
class QPushButton;

namespace paramlock {

class Job;
class LockDocument;
class MessageBar;

/**
 * "3 · Unlock": open a key (asking for a sealed key's password), check it against the locked model in memory or the
 * opened file, unlock in memory, measure the unlocked model, save it. The slow steps (Argon2id, unlocking a large
 * model, evaluation) run as jobs.
 */
class UnlockPage : public QWidget
{
    Q_OBJECT
public:
    UnlockPage(LockDocument *document, MessageBar *messages, QWidget *parent = nullptr);

    /** Opens a key file and checks it; `password` for a sealed key (empty: asks). keyChecked() follows. */
    void checkKey(const QString &keyPath, const QString &password = {});
    /** Unlocks the document's locked model with its key; unlocked() follows. */
    void unlockInMemory();

signals:
    void keyChecked(bool fits);
    void unlocked();
    void openModelRequested();

private:
    void showKey();
    void updateButtons();

    LockDocument *m_document;
    MessageBar *m_messages;
    Job *m_job;
    QLabel *m_keyStatus;
    QLabel *m_unlockResult;
    QPushButton *m_openKey;
    QPushButton *m_unlock;
    QPushButton *m_saveUnlocked;
};

} // namespace paramlock
