#include "lockdocument.h"

namespace paramlock {

void LockDocument::setModel(const Model &model, const QString &path)
{
    m_model = model;
    m_modelPath = path;
    m_outcome.reset();
    m_protectionLevel.clear();
    m_key.reset();
    m_unlocked.reset();
    emit modelChanged();
    emit outcomeChanged();
    emit keyChanged();
    emit unlockedChanged();
    emit protectionLevelChanged();
}

void LockDocument::setDataset(std::shared_ptr<const Dataset> train, std::shared_ptr<const Dataset> test)
{
    m_train = std::move(train);
    m_test = std::move(test);
    emit datasetChanged();
}

void LockDocument::setOutcome(std::shared_ptr<const LockOutcome> outcome)
{
    m_outcome = std::move(outcome);
    m_unlocked.reset();
    m_protectionLevel.clear();
    emit outcomeChanged();
    emit protectionLevelChanged();
    setKey(m_outcome ? std::optional<SecretKey>(m_outcome->result.key) : std::nullopt);
    emit unlockedChanged();
}

void LockDocument::setProtectionLevel(const QString &text)
{
    m_protectionLevel = text;
    emit protectionLevelChanged();
}

void LockDocument::setKey(std::optional<SecretKey> key)
{
    m_key = std::move(key);
    emit keyChanged();
}

void LockDocument::setUnlocked(std::optional<Model> model)
{
    m_unlocked = std::move(model);
    emit unlockedChanged();
}

} // namespace paramlock
