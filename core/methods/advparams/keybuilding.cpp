// The secret key K = {(p, v)} of Eq. 5, built from every weight the lock touched: one entry per distinct weight, with
// a perturbation that is exact in double (the locked value is nudged by one float step where subtracting would not
// give the original back), in the envelope every method's key travels in.
#include "lockrun.h"

#include "internal.h"
#include <cmath>
#include <cstring>

namespace paramlock::advparams {

namespace {

uint32_t floatBits(float f)
{
    uint32_t bits = 0;
    std::memcpy(&bits, &f, sizeof(bits));
    return bits;
}

} // namespace

void buildEntries(LockRun &run)
{
    AdvParamsLock &result = run.result;
    for (LayerState &layer : run.layers) {
        LayerLockReport &rep = layer.report;
        for (const auto &[index, original] : layer.originals) {
            float locked = layer.data[index];
            double v = double(locked) - double(original);
            while (floatBits(float(double(locked) - v)) != floatBits(original)) {
                locked = std::nextafter(locked, original);
                v = double(locked) - double(original);
            }
            layer.data[index] = locked;
            if (v == 0.0)
                continue;
            result.secret.entries.push_back({rep.layer, index, v});
            rep.positions.push_back(index);
            rep.before.push_back(original);
            rep.after.push_back(locked);
        }
        summarise(layer.weight, rep.meanAfter, rep.stdAfter);
        result.layers.push_back(rep);
    }
}

void wrapKey(LockRun &run, const std::vector<std::string> &layerSet, const std::string &originalFingerprint)
{
    AdvParamsLock &result = run.result;
    result.secret.settings = run.settings;
    result.secret.settings.layers = layerSet;
    result.key = keyEnvelope(kMethodId, modeId(result.secret.settings.mode), originalFingerprint, result.locked,
        int64_t(result.secret.entries.size()), result.secret.toPayload());
}

} // namespace paramlock::advparams
