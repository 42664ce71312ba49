// Forged licences tried as a forger would: many random secrets on some images, the best of them measured again on
// images they were not picked on.
#include "securenet.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace paramlock {

double ForgedLicences::bestFresh() const
{
    double best = -1.0;
    for (const Candidate &c : top)
        best = std::max(best, c.fresh);
    return best;
}

Expected<ForgedLicences> tryForgedLicences(const Model &licensed, const LicenceSettings &settings, const Dataset &test,
    int64_t count, int64_t pickOn, int64_t limit, uint64_t seed, int recheck, Progress &progress)
{
    if (count < 0 || pickOn <= 0 || recheck < 0)
        return Error{
            "forged licences: the count and the rechecks must not be negative, the picking images must be positive"};
    const int64_t end = limit > 0 ? std::min(limit, test.size()) : test.size();
    ForgedLicences f;
    f.count = count;
    f.pickedOn = std::min(pickOn, end);
    f.freshImages = end - f.pickedOn;
    const Dataset picking = firstImages(test, f.pickedOn);
    std::mt19937_64 rng(seed);
    double sum = 0.0, squares = 0.0;
    std::vector<ForgedLicences::Candidate> all;
    all.reserve(size_t(count));
    for (int64_t i = 0; i < count; ++i) {
        if (!progress.advance(0.9 * double(i) / double(std::max<int64_t>(1, count)), "forged licences"))
            return Error{"cancelled"};
        ForgedLicences::Candidate c;
        c.secret = drawnSecret(rng);
        auto a = accuracyWithStamp(
            licensed, licencePattern(c.secret, settings, test.channels, test.height, test.width), picking);
        if (!a)
            return Error{a.error()};
        c.picked = *a;
        sum += *a;
        squares += *a * *a;
        f.best = std::max(f.best, *a);
        all.push_back(c);
    }
    if (count > 0) {
        f.mean = sum / double(count);
        f.std = std::sqrt(std::max(0.0, squares / double(count) - f.mean * f.mean));
    }
    // The best first; the earlier draw first among equals, so that the order is the draw's.
    std::stable_sort(all.begin(), all.end(), [](const auto &a, const auto &b) { return a.picked > b.picked; });
    all.resize(std::min<size_t>(all.size(), size_t(recheck)));
    if (f.freshImages > 0) {
        std::vector<int64_t> after(size_t(f.freshImages));
        std::iota(after.begin(), after.end(), f.pickedOn);
        const Dataset fresh = test.subset(after);
        for (size_t i = 0; i < all.size(); ++i) {
            if (!progress.advance(0.9 + 0.1 * double(i) / double(all.size()), "forged licences, measured again"))
                return Error{"cancelled"};
            auto a = accuracyWithStamp(
                licensed, licencePattern(all[i].secret, settings, test.channels, test.height, test.width), fresh);
            if (!a)
                return Error{a.error()};
            all[i].fresh = *a;
        }
    }
    f.top = std::move(all);
    return f;
}

} // namespace paramlock
