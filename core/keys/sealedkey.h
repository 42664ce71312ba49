#pragma once

#include "expected.h"
#include "secretkey.h"

#include <cstdint>
#include <string>
#include <vector>

namespace paramlock {

/**
 * How hard the password is to guess offline: Argon2id's work and memory,
 * libsodium's "interactive" (64 MiB), "moderate" (256 MiB, the default) or
 * "sensitive" (1 GiB) presets.
 */
struct KdfStrength
{
    uint64_t opsLimit = 0;
    uint64_t memLimit = 0;

    static Expected<KdfStrength> named(const std::string &name);
    static KdfStrength interactive();
    static KdfStrength moderate();
};

/** What a key file says about itself without its password: enough to tell keys apart. */
struct KeyFileInfo
{
    bool sealed = false; ///< password-protected
    std::string recipient; ///< who the key was issued to (sealed keys; may be empty)
    std::string keyId; ///< random id of this issued key (sealed keys)
    std::string issuedAt;
    std::string method;
    std::string mode;
    std::string originalFingerprint;
    std::string lockedFingerprint; ///< the same for every key of one lock
    int64_t parameterCount = 0;
    int64_t entryCount = 0;
    std::string createdAt;
    std::string createdBy;
    std::string kdf; ///< e.g. "argon2id13, 3 passes, 256 MiB"
};

/** Why opening a key failed, so that callers can react (ask again on a wrong password). */
enum class KeyError { None, NotAKey, Corrupt, NeedsPassword, WrongPassword, Tampered };

/** The outcome of opening a key file. */
struct OpenedKey
{
    KeyError error = KeyError::None;
    std::string message; ///< for the user, when error != None
    SecretKey key;
    KeyFileInfo info;
    bool ok() const { return error == KeyError::None; }
};

/**
 * Encrypts a key for one recipient: Argon2id derives the encryption key from
 * the password, XChaCha20-Poly1305 encrypts the key JSON, and the readable
 * header (recipient, fingerprints, counts) is authenticated with it.
 */
Expected<std::string> sealKey(const SecretKey &key, const std::string &password, const std::string &recipient = {},
    const KdfStrength &strength = KdfStrength::moderate());

/** Describes a plain or sealed key file's text without decrypting it. */
Expected<KeyFileInfo> inspectKey(const std::string &text);

/** Opens a plain or sealed key's text; `password` is ignored for plain keys. */
OpenedKey openKey(const std::string &text, const std::string &password = {});

/** Reads and opens a key file; the path prefixes the message. */
OpenedKey openKeyFile(const std::string &path, const std::string &password = {});

/** True when the text is a password-protected key. */
bool isSealedKey(const std::string &text);

/** Overwrites a secret held in a std::string with zeros (the compiler may not skip it). */
void wipe(std::string &secret);

} // namespace paramlock
