#pragma once

// A hand-made AdvParams key for the key-format tests.
#include "advparams.h"
#include "protectionmethod.h"
#include "secretkey.h"

namespace paramlock {

inline AdvParamsKey sampleSecret()
{
    AdvParamsKey k;
    k.settings.mode = LockMode::Paper;
    k.settings.theta = 0.07;
    k.settings.seed = 42;
    k.settings.chunkSize = 50;
    k.settings.layers = {"conv1.weight", "fc3.weight"};
    k.settings.randomLayers = 2;
    // Perturbations that need all 17 significant digits to round-trip.
    k.entries = {{"conv1.weight", 17, 0.1 + 0.2}, {"fc3.weight", 0, -1.0 / 3.0}, {"fc3.weight", 839, 5e-324}};
    return k;
}

inline SecretKey sampleKey()
{
    const AdvParamsKey secret = sampleSecret();
    SecretKey k;
    k.method = advParamsMethod().id();
    k.mode = modeId(secret.settings.mode);
    k.originalFingerprint = std::string(64, 'a');
    k.lockedFingerprint = std::string(64, 'b');
    k.parameterCount = 61706;
    k.secretCount = int64_t(secret.entries.size());
    k.createdAt = "2026-11-25T08:00:00Z";
    k.createdBy = "ParamLock test";
    k.payload = secret.toPayload();
    return k;
}

} // namespace paramlock
