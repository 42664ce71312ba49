// Signals, subsets and the registry's views. Everything comes from the owner's secret alone: BLAKE2b keyed with it
// derives one key per use (domain-separated by a message), whose ChaCha20 keystream places the signals, paints them
// and draws each user's subset. Without the secret, neither the signals nor anyone's subset can be derived.
#include "fingerprint.h"

#include <algorithm>
#include <numeric>

namespace paramlock {

namespace {

uint64_t word(const std::vector<uint8_t> &bytes, size_t at)
{
    uint64_t w = 0;
    for (size_t b = 0; b < 8; ++b)
        w = (w << 8) | bytes[at + b];
    return w;
}

/** The first `take` of a keyed shuffle of 0..count-1 (Fisher-Yates on keystream words). */
std::vector<int> keyedDraw(const Secret256 &key, int count, int take)
{
    const std::vector<uint8_t> bytes = keystream(key, 8 * size_t(std::max(1, take)));
    std::vector<int> items(static_cast<size_t>(count), 0);
    std::iota(items.begin(), items.end(), 0);
    for (int i = 0; i < take; ++i) {
        const int j = i + int(word(bytes, 8 * size_t(i)) % uint64_t(count - i));
        std::swap(items[size_t(i)], items[size_t(j)]);
    }
    items.resize(size_t(take));
    return items;
}

} // namespace

std::vector<InputStamp> fingerprintSignals(
    const Secret256 &owner, const FingerprintSettings &settings, int channels, int height, int width)
{
    const int s = settings.signalSize, cell = s + 1;
    const int rows = height / cell, cols = width / cell;
    if (s < 1 || settings.signalCount < 2 || settings.signalCount > rows * cols)
        throw Failure(std::to_string(settings.signalCount) + " signals of " + std::to_string(s) + "x"
            + std::to_string(s) + " pixels do not fit apart on " + std::to_string(width) + "x" + std::to_string(height)
            + " images: at most " + std::to_string(rows * cols) + "; lower --signals or --signal-size");
    const std::vector<int> cells =
        keyedDraw(keyedHash(owner, "paramlock-fingerprint-places/v1"), rows * cols, settings.signalCount);
    const std::vector<uint8_t> paint = keystream(keyedHash(owner, "paramlock-fingerprint-paint/v1"),
        size_t(settings.signalCount) * size_t(channels) * size_t(s) * size_t(s));
    const int top0 = (height - rows * cell + 1) / 2, left0 = (width - cols * cell + 1) / 2;
    std::vector<InputStamp> out;
    size_t at = 0;
    for (int k = 0; k < settings.signalCount; ++k) {
        InputStamp stamp = InputStamp::none(channels, height, width);
        const int top = top0 + (cells[size_t(k)] / cols) * cell, left = left0 + (cells[size_t(k)] % cols) * cell;
        for (int c = 0; c < channels; ++c)
            for (int y = top; y < top + s; ++y)
                for (int x = left; x < left + s; ++x) {
                    const size_t i = (size_t(c) * size_t(height) + size_t(y)) * size_t(width) + size_t(x);
                    stamp.replaced[i] = 1;
                    stamp.value[i] = (paint[at++] & 1) ? 255 : 0;
                }
        out.push_back(std::move(stamp));
    }
    return out;
}

std::vector<size_t> signalPixels(const InputStamp &signal)
{
    std::vector<size_t> out;
    for (size_t i = 0; i < signal.replaced.size(); ++i)
        if (signal.replaced[i])
            out.push_back(i);
    return out;
}

std::vector<InputStamp> withSignalValues(std::vector<InputStamp> stamps, const std::vector<uint8_t> &values)
{
    if (values.empty())
        return stamps;
    size_t at = 0;
    for (InputStamp &s : stamps)
        for (size_t i : signalPixels(s)) {
            if (at >= values.size())
                throw Failure("the registry's learnt signals are damaged (" + std::to_string(values.size())
                    + " values for more pixels): use the registry the embedding wrote");
            s.value[i] = values[at++];
        }
    if (at != values.size())
        throw Failure("the registry's learnt signals are damaged (" + std::to_string(values.size()) + " values for "
            + std::to_string(at) + " pixels): use the registry the embedding wrote");
    return stamps;
}

std::vector<int> drawSubset(
    const Secret256 &owner, const FingerprintSettings &settings, const std::string &id, int attempt)
{
    const Secret256 key = keyedHash(owner, "paramlock-fingerprint-user/v1:" + std::to_string(attempt) + ":" + id);
    std::vector<int> subset = keyedDraw(key, settings.signalCount, settings.subsetSize);
    std::sort(subset.begin(), subset.end());
    return subset;
}

Expected<FingerprintUser> registerUser(const Secret256 &owner, const FingerprintSettings &settings,
    const std::string &id, const std::vector<FingerprintUser> &taken)
{
    if (id.empty() || id.find_first_of(" \t/\\,") != std::string::npos)
        return Error{"user \"" + id + "\": give a name without spaces, commas or slashes, e.g. alice"};
    if (settings.subsetSize < 1 || settings.subsetSize >= settings.signalCount)
        return Error{"a fingerprint takes between 1 and " + std::to_string(settings.signalCount - 1)
            + " signals (--subset-size) when the trigger has " + std::to_string(settings.signalCount)};
    for (const FingerprintUser &u : taken)
        if (u.id == id)
            return Error{"the user " + id + " is already registered"};
    for (int attempt = 0; attempt < 100000; ++attempt) {
        FingerprintUser user;
        user.id = id;
        user.attempt = attempt;
        user.subset = drawSubset(owner, settings, id, attempt);
        const bool clash =
            std::any_of(taken.begin(), taken.end(), [&](const FingerprintUser &u) { return u.subset == user.subset; });
        if (!clash)
            return user;
    }
    return Error{"every subset of " + std::to_string(settings.subsetSize) + " of "
        + std::to_string(settings.signalCount) + " signals is taken; raise --signals for more users"};
}

InputStamp subsetStamp(const std::vector<InputStamp> &stamps, const std::vector<int> &subset)
{
    InputStamp out = InputStamp::none(stamps.at(0).channels, stamps.at(0).height, stamps.at(0).width);
    for (int k : subset)
        out.overlay(stamps.at(size_t(k)));
    return out;
}

const FingerprintUser *FingerprintRegistry::find(const std::string &id) const
{
    for (const FingerprintUser &u : users)
        if (u.id == id)
            return &u;
    return nullptr;
}

std::vector<InputStamp> FingerprintRegistry::signalStamps() const
{
    return withSignalValues(
        fingerprintSignals(owner, settings, carriers.channels, carriers.height, carriers.width), signalValues);
}

Dataset FingerprintRegistry::fingerprintImages(const FingerprintUser &user) const
{
    return stamped(firstImages(carriers, kFingerprintImages), subsetStamp(signalStamps(), user.subset));
}

} // namespace paramlock
