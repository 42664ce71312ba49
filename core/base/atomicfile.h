#pragma once

#include "expected.h"

#include <string>
#include <vector>

namespace paramlock {

/**
 * Writes `bytes` to `path` through a temporary file and a rename, so that a
 * failure or a cancel never leaves a half-written file. Refuses to write over
 * any of `protectedPaths` (the user's inputs), compared after resolving links.
 */
Expected<void> writeFileAtomically(
    const std::string &path, const std::string &bytes, const std::vector<std::string> &protectedPaths = {});

/** True when both paths name the same existing or future file. */
bool samePath(const std::string &a, const std::string &b);

/** Reads a whole file, with a clear error. */
Expected<std::string> readWholeFile(const std::string &path);

/** Hex SHA-256 of bytes. */
std::string sha256Hex(const std::string &bytes);

} // namespace paramlock
