// The registry: the one place that lists the methods. A new method is a folder under methods/ and one line here.
#include "protectionmethod.h"

#include "advparams/advparams.h"
#include "dense/dense.h"
#include "fingerprint/fingerprint.h"
#include "nnsplitter/nnsplitter.h"
#include "securenet/securenet.h"

namespace paramlock {

const std::vector<const ProtectionMethod *> &methods()
{
    static const std::vector<const ProtectionMethod *> list = {
        &advParamsMethod(),
        &nnSplitterMethod(),
        &denseMethod(),
        &secureNetMethod(),
        &fingerprintMethod(),
    };
    return list;
}

const ProtectionMethod *methodById(const std::string &id)
{
    for (const ProtectionMethod *m : methods())
        if (m->id() == id)
            return m;
    return nullptr;
}

const ProtectionMethod &defaultMethod()
{
    return *methods().front();
}

std::string methodIds(Capability capability)
{
    std::string ids;
    for (const ProtectionMethod *m : methods())
        if (m->can(capability))
            ids += (ids.empty() ? "" : ", ") + m->id();
    return ids;
}

} // namespace paramlock
