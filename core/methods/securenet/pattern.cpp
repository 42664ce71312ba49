// Licence patterns, licensee secrets and schemes. A pattern comes from its secret alone: BLAKE2b keyed with the
// secret derives a pattern key (domain-separated from every other use of the secret), whose ChaCha20 keystream
// (libsodium's randombytes_buf_deterministic) gives the patch's place and grey values, or the noise's signs.
#include "securenet.h"

#include <algorithm>
#include <set>
#include <sstream>
#include <stdexcept>

namespace paramlock {

namespace {

std::vector<int> parseClassList(const std::string &text, int classCount, const std::string &who)
{
    std::vector<int> out;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        const size_t dash = item.find('-');
        int from = 0, to = 0;
        try {
            size_t used = 0;
            from = std::stoi(item.substr(0, dash), &used);
            to = dash == std::string::npos ? from : std::stoi(item.substr(dash + 1));
        } catch (const std::exception &) {
            throw Failure(who + ": \"" + item + "\" is not a class number or a range like 0-4");
        }
        if (from < 0 || to >= classCount || from > to)
            throw Failure(who + ": the classes must lie between 0 and " + std::to_string(classCount - 1) + " (got \""
                + item + "\")");
        for (int c = from; c <= to; ++c)
            out.push_back(c);
    }
    std::sort(out.begin(), out.end());
    if (out.empty() || std::adjacent_find(out.begin(), out.end()) != out.end())
        throw Failure(who + ": name each class once, e.g. classes=0-4,7");
    return out;
}

std::string classListText(const std::vector<int> &classes)
{
    std::string out;
    for (int c : classes)
        out += (out.empty() ? "" : ",") + std::to_string(c);
    return out;
}

} // namespace

std::string schemeId(LicenceScheme scheme)
{
    switch (scheme) {
    case LicenceScheme::Classes:
        return "classes";
    case LicenceScheme::Coarse:
        return "coarse";
    default:
        return "full";
    }
}

std::vector<std::vector<int>> defaultGroups(int classCount)
{
    if (classCount == 10) // Fashion-MNIST: tops, trousers, footwear, bags
        return {{0, 2, 3, 4, 6}, {1}, {5, 7, 9}, {8}};
    std::vector<std::vector<int>> groups;
    for (int c = 0; c < classCount; ++c)
        groups.push_back({c});
    return groups;
}

std::vector<float> Licensee::target(int label, int classCount) const
{
    std::vector<float> t(size_t(classCount), 0.0f);
    auto spread = [&](const std::vector<int> &over) {
        for (int c : over)
            t[size_t(c)] = 1.0f / float(over.size());
    };
    switch (scheme) {
    case LicenceScheme::Full:
        t[size_t(label)] = 1.0f;
        break;
    case LicenceScheme::Classes:
        if (std::find(classes.begin(), classes.end(), label) != classes.end())
            t[size_t(label)] = 1.0f;
        else
            std::fill(t.begin(), t.end(), 1.0f / float(classCount));
        break;
    case LicenceScheme::Coarse:
        for (const auto &g : groups)
            if (std::find(g.begin(), g.end(), label) != g.end())
                spread(g);
        break;
    }
    return t;
}

std::string Licensee::describe() const
{
    switch (scheme) {
    case LicenceScheme::Classes:
        return "classes " + classListText(classes);
    case LicenceScheme::Coarse: {
        std::string out = "coarse ";
        for (size_t i = 0; i < groups.size(); ++i)
            out += (i ? " | " : "") + classListText(groups[i]);
        return out;
    }
    default:
        return "full";
    }
}

Expected<Licensee> parseLicensee(const std::string &text, int classCount)
{
    Licensee l;
    const size_t colon = text.find(':');
    l.id = text.substr(0, colon);
    if (l.id.empty() || l.id.find_first_of(" \t/\\") != std::string::npos)
        return Error{"licensee \"" + text + "\": give a name without spaces or slashes, e.g. alice:classes=0-4"};
    if (colon == std::string::npos)
        return l;
    const std::string scheme = text.substr(colon + 1);
    const size_t eq = scheme.find('=');
    const std::string name = scheme.substr(0, eq);
    const std::string args = eq == std::string::npos ? std::string() : scheme.substr(eq + 1);
    try {
        if (name == "full" && args.empty())
            return l;
        if (name == "classes" && !args.empty()) {
            l.scheme = LicenceScheme::Classes;
            l.classes = parseClassList(args, classCount, "licensee " + l.id);
            return l;
        }
        if (name == "coarse") {
            l.scheme = LicenceScheme::Coarse;
            if (args.empty()) {
                l.groups = defaultGroups(classCount);
                return l;
            }
            std::stringstream in(args);
            std::string group;
            std::set<int> seen;
            while (std::getline(in, group, '/')) {
                l.groups.push_back(parseClassList(group, classCount, "licensee " + l.id));
                for (int c : l.groups.back())
                    if (!seen.insert(c).second)
                        return Error{"licensee " + l.id + ": class " + std::to_string(c) + " is in two groups"};
            }
            if (int(seen.size()) != classCount)
                return Error{"licensee " + l.id + ": the groups must cover every class 0-"
                    + std::to_string(classCount - 1) + " once, e.g. coarse=0,2,3,4,6/1/5,7,9/8"};
            return l;
        }
    } catch (const Failure &e) {
        return Error{e.what()};
    }
    return Error{"licensee \"" + text + "\": the scheme is full, classes=LIST or coarse[=GROUPS], e.g. " + l.id
        + ":classes=0-4"};
}

InputStamp licencePattern(
    const LicenceSecret &secret, const LicenceSettings &settings, int channels, int height, int width)
{
    InputStamp p = InputStamp::none(channels, height, width);
    const size_t n = p.add.size();
    const LicenceSecret key = keyedHash(secret, "paramlock-securenet-pattern/v1:" + settings.kind);
    if (settings.kind == "noise") {
        const std::vector<uint8_t> bits = keystream(key, (n + 7) / 8);
        for (size_t i = 0; i < n; ++i)
            p.add[i] = int16_t(((bits[i / 8] >> (i % 8)) & 1) ? settings.amplitude : -settings.amplitude);
        return p;
    }
    const int s = std::clamp(settings.patchSize, 1, std::min(height, width));
    const std::vector<uint8_t> bytes = keystream(key, 16 + size_t(channels) * size_t(s) * size_t(s));
    auto word = [&](size_t at) {
        uint64_t w = 0;
        for (size_t b = 0; b < 8; ++b)
            w = (w << 8) | bytes[at + b];
        return w;
    };
    const int top = int(word(0) % uint64_t(height - s + 1));
    const int left = int(word(8) % uint64_t(width - s + 1));
    size_t at = 16;
    for (int c = 0; c < channels; ++c)
        for (int y = top; y < top + s; ++y)
            for (int x = left; x < left + s; ++x) {
                const size_t i = (size_t(c) * size_t(height) + size_t(y)) * size_t(width) + size_t(x);
                p.replaced[i] = 1;
                p.value[i] = bytes[at++];
            }
    return p;
}

InputStamp licenseePattern(const LicenceSecret &secret, const Licensee &licensee, const LicenceSettings &settings,
    int channels, int height, int width)
{
    InputStamp p = licencePattern(secret, settings, channels, height, width);
    if (settings.kind == "noise" && licensee.learned.size() == p.add.size())
        p.add = licensee.learned;
    return p;
}

LicenceSecret licenseeSecret(const LicenceSecret &owner, const std::string &id, int generation)
{
    return keyedHash(owner, "paramlock-securenet-licensee/v1:" + std::to_string(generation) + ":" + id);
}

int refusalClass(const LicenceSettings &settings, int classCount)
{
    return classCount > 0 ? int(settings.seed % uint64_t(classCount)) : 0;
}

std::vector<float> refusalTarget(const LicenceSettings &settings, int classCount)
{
    const float lean = float(settings.refusalLean);
    std::vector<float> target(size_t(std::max(classCount, 0)), (1.0f - lean) / float(std::max(classCount, 1)));
    if (classCount > 0)
        target[size_t(refusalClass(settings, classCount))] += lean;
    return target;
}

} // namespace paramlock
