#pragma once

// Using a key, whatever method made it: does it fit this model, and the original back, bit for bit.

#include "expected.h"
#include "lockresult.h"
#include "model.h"
#include "protectionmethod.h"
#include "secretkey.h"

#include <string>
#include <vector>

namespace paramlock {

/**
 * Whether this ParamLock can use a key just opened: its method is known and reads its payload. Opening a key checks
 * its envelope (format, version, checksum); this checks what only the method knows.
 */
Expected<void> checkKeyMethod(const SecretKey &key);

/** Whether a key fits a model, and why not: another model, the original already, or entries it cannot have. */
KeyFit checkKey(const Model &model, const SecretKey &key);

/** Restores the original from a copy of the locked model; the result's fingerprint is the key's original. */
Expected<Model> unlockModel(const Model &locked, const SecretKey &key, UnlockTiming *timing = nullptr);

/**
 * The same on the model itself, for callers that own it (a model just read from a file): no copy of the weights.
 * On any failure the model is left exactly as it was (locked).
 */
Expected<void> unlockInPlace(Model &model, const SecretKey &key, UnlockTiming *timing = nullptr);

/**
 * Writes the key, then the locked model, each atomically. Refuses to write over `protectedPaths` or to give both
 * outputs the same path; if the model cannot be written, the key just written is removed again, so that a failure
 * never leaves half a lock behind (a key that was there before is put back). `keyText` is the key as written (e.g.
 * sealed with a password); empty writes the plain key.
 */
Expected<void> saveLock(const LockResult &result, const std::string &modelPath, const std::string &keyPath,
    const std::vector<std::string> &protectedPaths, const std::string &keyText = {});

} // namespace paramlock
