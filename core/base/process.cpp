#include "process.h"

#include <cstdlib>
#include <malloc.h>
#include <unistd.h>

namespace paramlock {

namespace {

void preferPassiveOpenMP(char *argv[])
{
    if (std::getenv("OMP_WAIT_POLICY") != nullptr || ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0)
        return;
    ::execv("/proc/self/exe", argv);
    // Only reached when the exec failed (no /proc, say): the variable stays set for child processes.
}

void keepFreedMemory()
{
    if (std::getenv("MALLOC_MMAP_THRESHOLD_") || std::getenv("MALLOC_TRIM_THRESHOLD_") || std::getenv("GLIBC_TUNABLES"))
        return;
    // Blocks up to 32 MiB (glibc's largest dynamic threshold) come from the heap and return to it; larger ones are
    // still mapped, and a free heap top is given back to the system only above 512 MiB.
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024);
}

} // namespace

void prepareProcess(char *argv[], bool computes)
{
    if (computes)
        preferPassiveOpenMP(argv);
    keepFreedMemory();
}

} // namespace paramlock
