#pragma once

namespace paramlock {

/**
 * Process-wide settings of ParamLock's programs (the CLI, the GUI, the bench), not of the library, which leaves its
 * host's process alone. Call it first thing in main(); both settings were measured on this project's 2-core machine
 * (docs/findings.md, "The user's wait"):
 *
 * - OpenMP threads wait passively (sleep) instead of spinning between parallel regions, so that a lock or an
 *   evaluation degrades gracefully when another busy process shares the machine. libgomp reads OMP_WAIT_POLICY once,
 *   when LibTorch loads it, before main() runs; so when the variable is unset this sets it and re-executes the
 *   program with the same arguments (same process id, same standard streams). A user's own value, ACTIVE included,
 *   is kept; if the re-execution fails the program runs on as before. Loading LibTorch twice costs about a second,
 *   so commands that compute nothing (`computes` false: --version, info, key) skip it.
 * - glibc keeps freed memory for reuse instead of giving every large block back to the system at once: a DenseNet's
 *   activations are tens of megabytes, and mapping them afresh for every batch spent most of an evaluation in page
 *   faults. A user's MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_ or GLIBC_TUNABLES keeps glibc's own rules.
 */
void prepareProcess(char *argv[], bool computes = true);

} // namespace paramlock
