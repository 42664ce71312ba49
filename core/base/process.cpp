#include "process.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <malloc.h>
#include <sstream>
#include <string>
#include <thread>
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

struct CpuTimes
{
    double busy = 0.0; ///< all CPUs, clock ticks
    double total = 0.0;
    int cpus = 0;
    double own = 0.0; ///< this process's user and system ticks
    bool ok = false;
};

CpuTimes readCpuTimes()
{
    CpuTimes t;
    std::ifstream stat("/proc/stat");
    std::string line;
    while (std::getline(stat, line)) {
        if (line.rfind("cpu ", 0) == 0) {
            std::istringstream in(line.substr(4));
            double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
            in >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
            if (!in)
                return t;
            t.busy = user + nice + system + irq + softirq + steal;
            t.total = t.busy + idle + iowait;
        } else if (line.rfind("cpu", 0) == 0) {
            ++t.cpus;
        }
    }
    std::ifstream self("/proc/self/stat");
    std::string text((std::istreambuf_iterator<char>(self)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')'); // the command name may hold spaces and parentheses
    if (close == std::string::npos || t.cpus == 0 || t.total <= 0.0)
        return t;
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) { // fields 3 (state) ... 15 (stime), 1-based as in proc(5)
        if (i == 14)
            utime = std::stod(field);
        else if (i == 15)
            stime = std::stod(field);
    }
    t.own = utime + stime;
    t.ok = true;
    return t;
}

} // namespace

double busyCoresOfOthers(int milliseconds)
{
    const CpuTimes before = readCpuTimes();
    std::this_thread::sleep_for(std::chrono::milliseconds(std::max(1, milliseconds)));
    const CpuTimes after = readCpuTimes();
    if (!before.ok || !after.ok || after.total <= before.total)
        return -1.0;
    const double perCpu = (after.total - before.total) / double(after.cpus); // elapsed ticks
    const double others = (after.busy - before.busy) - (after.own - before.own);
    return std::max(0.0, others / perCpu);
}

int freeCores(int cores, double busyOthers)
{
    const int taken = busyOthers > 0.0 ? int(std::floor(busyOthers + 0.25)) : 0;
    return std::max(1, cores - taken);
}

void prepareProcess(char *argv[], bool computes)
{
    if (computes)
        preferPassiveOpenMP(argv);
    keepFreedMemory();
}

} // namespace paramlock
