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
 *   activations at batch 250 are tens of megabytes, and mapping them afresh for every batch made its evaluation 1.19 x
 *   slower. A user's MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_ or GLIBC_TUNABLES keeps glibc's own rules.
 */
void prepareProcess(char *argv[], bool computes = true);

/**
 * How many cores other processes keep busy, measured over `milliseconds` from /proc/stat (all CPUs' busy time
 * minus this process's own, /proc/self/stat); negative when it cannot be read (no /proc).
 */
double busyCoresOfOthers(int milliseconds = 100);

/**
 * The threads worth running on `cores` cores while other processes keep `busyOthers` of them busy: a core at least
 * three quarters busy is taken, and at least one thread is left. Two threads on a core and a half wait for each other
 * at every layer: beside one busy process on 2 cores, a DenseNet evaluation took 37.2 s with 2 threads and 32.1 s
 * with 1 (21.6 s with 2 alone).
 */
int freeCores(int cores, double busyOthers);

} // namespace paramlock
