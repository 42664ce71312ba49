#pragma once

// What the window works on, in one place (like Tiled's Document): the model, the data, the last lock, the key and
// the unlocked model, with a signal for each change. Pages read it and react; only the window and the jobs' results
// change it.

#include "dataset.h"
#include "lockworkflow.h"
#include "model.h"
#include "secretkey.h"

#include <QObject>
#include <QString>

#include <memory>
#include <optional>

namespace paramlock {

class LockDocument : public QObject
{
    Q_OBJECT
public:
    explicit LockDocument(QObject *parent = nullptr) : QObject(parent) { }

    const Model &model() const { return m_model; }
    bool hasModel() const { return m_model.isValid(); }
    const QString &modelPath() const { return m_modelPath; }
    /** A newly opened model: the lock, the key and the unlocked model of the previous one are dropped. */
    void setModel(const Model &model, const QString &path);

    std::shared_ptr<const Dataset> train() const { return m_train; }
    std::shared_ptr<const Dataset> test() const { return m_test; }
    bool hasDataset() const { return m_train && m_test; }
    void setDataset(std::shared_ptr<const Dataset> train, std::shared_ptr<const Dataset> test);

    std::shared_ptr<const LockOutcome> outcome() const { return m_outcome; }
    /** A finished lock: its key becomes the current key. */
    void setOutcome(std::shared_ptr<const LockOutcome> outcome);

    /**
     * The last lock's protection level in plain words, from its advantage analysis (empty until one ran): what a
     * thief with labelled data gets from the locked model.
     */
    const QString &protectionLevel() const { return m_protectionLevel; }
    void setProtectionLevel(const QString &text);

    const std::optional<SecretKey> &key() const { return m_key; }
    void setKey(std::optional<SecretKey> key);

    const std::optional<Model> &unlocked() const { return m_unlocked; }
    void setUnlocked(std::optional<Model> model);

    /** What a key is checked against and unlocks: the lock in memory, else the opened model file. */
    const Model &lockedModel() const { return m_outcome ? m_outcome->result.locked : m_model; }

signals:
    void modelChanged();
    void datasetChanged();
    void outcomeChanged();
    void keyChanged();
    void unlockedChanged();
    void protectionLevelChanged();

private:
    Model m_model;
    QString m_modelPath;
    std::shared_ptr<const Dataset> m_train;
    std::shared_ptr<const Dataset> m_test;
    std::shared_ptr<const LockOutcome> m_outcome;
    std::optional<SecretKey> m_key;
    std::optional<Model> m_unlocked;
    QString m_protectionLevel;
};

} // namespace paramlock
