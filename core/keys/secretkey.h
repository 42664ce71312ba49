#pragma once

#include "expected.h"

#include <cstdint>
#include <string>
#include <vector>

namespace paramlock {

/**
 * The secret key of a lock: an envelope every method shares (which method, which model, who made it) around the
 * method's own payload (AdvParams: its settings and the positions and perturbations of the changed weights). Whoever
 * holds it restores the model.
 *
 * Version 2 on disk:
 *     {"format": "paramlock-key", "version": 2, "method": "<id>", "mode": "<mode>",
 *      "model": {"fingerprint_original": ..., "fingerprint_locked": ..., "n_params": ...}, "secret_count": 26,
 *      "created_at": ..., "created_by": ..., "payload": {...the method's...}, "sha256": ...}
 * where sha256 covers everything else. Version-1 keys (AdvParams' own format before the envelope) still open: their
 * settings and entries become a payload of version 1.
 */
struct SecretKey
{
    static constexpr const char *kFormat = "paramlock-key";
    static constexpr int kVersion = 2;

    std::string method; ///< the id of the method that made it
    std::string mode; ///< the method's mode ("strong", "paper"); empty for a method without modes
    std::string originalFingerprint; ///< SHA-256 (hex) of the original model's conv/FC weights
    std::string lockedFingerprint; ///< SHA-256 (hex) of the locked model's
    int64_t parameterCount = 0; ///< all parameters of the model
    int64_t secretCount = 0; ///< what the payload holds: changed weights for AdvParams
    std::string createdAt; ///< ISO 8601, UTC
    std::string createdBy; ///< application and version
    std::string payload; ///< the method's payload, as JSON text (an object)
    int fileVersion = kVersion; ///< the version it was read from (1: converted from the old format)

    /** Serialises to version 2 with a checksum over everything. */
    std::string toJson() const;
    /** Parses and validates; refuses other formats, newer versions and edited keys. */
    static Expected<SecretKey> fromJson(const std::string &text);

    /** Reads a key file. */
    static Expected<SecretKey> load(const std::string &path);
    /** Writes atomically; refuses to overwrite any of `protectedPaths`. */
    Expected<void> save(const std::string &path, const std::vector<std::string> &protectedPaths = {}) const;

    /** SHA-256 (hex) of the key's canonical JSON: what the file's checksum is. */
    std::string checksum() const;
};

} // namespace paramlock
