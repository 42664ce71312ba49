#include "lockresult.h"

#include "version.h"

#include <QDateTime>

namespace paramlock {

SecretKey keyEnvelope(const std::string &method, const std::string &mode, const std::string &originalFingerprint,
    const Model &locked, int64_t secretCount, std::string payload)
{
    SecretKey key;
    key.method = method;
    key.mode = mode;
    key.originalFingerprint = originalFingerprint;
    key.lockedFingerprint = locked.fingerprint();
    key.parameterCount = locked.parameterCount();
    key.secretCount = secretCount;
    key.createdAt = QDateTime::currentDateTimeUtc().toString(Qt::ISODate).toStdString();
    key.createdBy = std::string("ParamLock ") + PARAMLOCK_VERSION;
    key.payload = std::move(payload);
    return key;
}

} // namespace paramlock
