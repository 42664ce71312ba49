// Embedding fingerprints (poisoned fine-tuning shared with the licences, inputstamp.h) and checking a suspect model.
// Every step shows the model the clean batch with its true labels (its loss counted --clean-weight times), the owner's
// trigger on a quarter of it and each answered subset on an eighth of it with the target class, each refused subset
// (another copy's user, a removed user) on an eighth with the true labels, and the whole batch again with forged
// subsets (half of them near misses of an answered subset: one signal swapped) with the true labels, so that only the
// issued subsets lead to the target. With a signal step, the signals' pixel values learn beside the weights from every
// stamped image's pixel gradient.
#include "fingerprint.h"

#include "lockresult.h"
#include "modelimpl.h"
#include "text.h"
#include "training.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <numeric>
#include <random>

namespace paramlock {

namespace {

constexpr int kForgedCopies = 2; ///< the clean batch is shown this many times with forged subsets
constexpr int64_t kHeldImages = 1000; ///< held-out training images: the carriers and the embedding's notes

struct Plan
{
    FingerprintSettings settings;
    int epochs = 1;
    std::vector<InputStamp> stamps;
    InputStamp owner;
    std::vector<std::vector<int>> answered; ///< subsets that lead to the target
    std::vector<std::vector<int>> refused; ///< issued subsets this model must not answer
    bool learn = false; ///< the signals' values learn (settings.signalStep), in `stamps` and `owner`
};

std::vector<int> everySignal(int count)
{
    std::vector<int> all(size_t(std::max(0, count)));
    std::iota(all.begin(), all.end(), 0);
    return all;
}

/**
 * The signals' pixel values learnt beside the weights: Adam, its step in grey levels, on every signal pixel from the
 * loss's gradient summed over the step's images that carry the signal (the owner's trigger, the users' subsets, the
 * refused and forged subsets alike: the values descend the same loss as the weights), kept within 0..255. The stamps
 * carry the values rounded, as the registry keeps them.
 */
class SignalLearner
{
public:
    SignalLearner(const std::vector<InputStamp> &stamps, double step)
    {
        std::vector<float> values;
        for (const InputStamp &s : stamps) {
            m_offset.push_back(values.size());
            m_pixels.push_back(signalPixels(s));
            for (size_t i : m_pixels.back())
                values.push_back(float(s.value[i]));
        }
        m_gradient.assign(values.size(), 0.0);
        m_values = std::make_unique<InputValueLearner>(values, step, 0.0, 255.0);
    }

    /** Adds the pixel gradient of `images` images, the i-th carrying the signals `subsets[i]`. */
    void collect(
        const std::vector<std::vector<int>> &subsets, const float *gradient, int64_t images, size_t pixels, double rate)
    {
        for (int64_t i = 0; i < images && size_t(i) < subsets.size(); ++i) {
            const float *g = gradient + size_t(i) * pixels;
            for (int k : subsets[size_t(i)]) {
                const std::vector<size_t> &at = m_pixels[size_t(k)];
                for (size_t j = 0; j < at.size(); ++j)
                    m_gradient[m_offset[size_t(k)] + j] += double(g[at[j]]);
            }
        }
        m_rate = rate;
        m_pending = true;
    }

    /** One step on what was collected since the last, into `stamps`; false when nothing was collected. */
    bool step(std::vector<InputStamp> &stamps)
    {
        if (!m_pending)
            return false;
        const float *v = m_values->step(std::vector<float>(m_gradient.begin(), m_gradient.end()), m_rate);
        std::fill(m_gradient.begin(), m_gradient.end(), 0.0);
        m_pending = false;
        for (size_t k = 0; k < stamps.size(); ++k)
            for (size_t j = 0; j < m_pixels[k].size(); ++j)
                stamps[k].value[m_pixels[k][j]] = uint8_t(std::lround(v[m_offset[k] + j]));
        return true;
    }

private:
    std::vector<std::vector<size_t>> m_pixels; ///< each signal's pixels
    std::vector<size_t> m_offset; ///< where each signal's values start
    std::vector<double> m_gradient;
    double m_rate = 1.0; ///< the schedule's rate at the collected step
    bool m_pending = false;
    std::unique_ptr<InputValueLearner> m_values;
};

/** The signals' values, flat, in the order FingerprintRegistry::signalValues keeps them. */
std::vector<uint8_t> signalValuesOf(const std::vector<InputStamp> &stamps)
{
    std::vector<uint8_t> out;
    for (const InputStamp &s : stamps)
        for (size_t i : signalPixels(s))
            out.push_back(s.value[i]);
    return out;
}

std::vector<int> randomSubset(int signalCount, int size, std::mt19937_64 &rng)
{
    std::vector<int> all(static_cast<size_t>(signalCount), 0);
    std::iota(all.begin(), all.end(), 0);
    std::shuffle(all.begin(), all.end(), rng);
    all.resize(size_t(size));
    std::sort(all.begin(), all.end());
    return all;
}

/** A subset never answered: half the time an answered subset with one signal swapped for another. */
std::vector<int> forgedSubset(const Plan &plan, std::mt19937_64 &rng)
{
    const int N = plan.settings.signalCount, n = plan.settings.subsetSize;
    for (;;) {
        std::vector<int> s;
        if (!plan.answered.empty() && (rng() & 1)) {
            s = plan.answered[rng() % plan.answered.size()];
            std::vector<int> out;
            for (int k = 0; k < N; ++k)
                if (!std::binary_search(s.begin(), s.end(), k))
                    out.push_back(k);
            s[rng() % s.size()] = out[rng() % out.size()];
            std::sort(s.begin(), s.end());
        } else {
            s = randomSubset(N, n, rng);
        }
        if (std::find(plan.answered.begin(), plan.answered.end(), s) == plan.answered.end())
            return s;
    }
}

/** `count` images of `clean`, starting at `from` and wrapping round. */
Dataset slice(const Dataset &clean, int64_t from, int64_t count)
{
    std::vector<int64_t> idx;
    for (int64_t i = 0; i < std::min(count, clean.size()); ++i)
        idx.push_back((from + i) % clean.size());
    return clean.subset(idx);
}

Expected<bool> fineTune(Model &model, const Dataset &images, Plan &plan, Progress &progress, MicroBatch &used)
{
    PoisonSchedule schedule;
    schedule.epochs = plan.epochs;
    schedule.learningRate = plan.settings.learningRate;
    schedule.batchSize = plan.settings.batchSize;
    schedule.seed = plan.settings.seed;
    schedule.cosine = true;
    schedule.weightNoise = plan.settings.weightNoise;
    schedule.chunk = plan.settings.microBatch;
    const int target = plan.settings.target;
    const std::vector<int> all = everySignal(plan.settings.signalCount);
    std::unique_ptr<SignalLearner> learner;
    if (plan.learn && plan.settings.signalStep > 0.0)
        learner = std::make_unique<SignalLearner>(plan.stamps, plan.settings.signalStep);
    return poisonedFineTune(
        model, images, schedule,
        [&](const Dataset &clean, std::mt19937_64 &rng, PoisonBatch &batch) {
            if (learner && learner->step(plan.stamps)) // the last step's gradient, now that it is complete
                plan.owner = subsetStamp(plan.stamps, all);
            const size_t pixels = size_t(clean.imageBytes());
            // Adds images carrying `subsets` (one per image) with `target`, their pixel gradient to the learner.
            const auto add = [&](const Dataset &images, std::vector<std::vector<int>> subsets, int label) {
                PixelGradient watch;
                if (SignalLearner *l = learner.get())
                    watch = [l, subsets = std::move(subsets), pixels](
                                const float *g, int64_t n, double rate) { l->collect(subsets, g, n, pixels, rate); };
                const int classes = batch.classCount();
                batch.add(
                    images,
                    [label, classes](int trueLabel) {
                        std::vector<float> t(size_t(classes), 0.0f);
                        t[size_t(label < 0 ? trueLabel : label)] = 1.0f;
                        return t;
                    },
                    std::move(watch));
            };
            const auto same = [](int64_t n, const std::vector<int> &s) {
                return std::vector<std::vector<int>>(size_t(n), s);
            };
            // An eighth of the batch per answered subset, and a quarter at least for them all together (a tracing
            // copy answers one subset among many refused ones).
            const int64_t b = clean.size(), share = std::max<int64_t>(2, b / 8);
            const int64_t answeredShare =
                std::max<int64_t>(share, b / 4 / int64_t(std::max<size_t>(1, plan.answered.size())));
            batch.addTrue(clean, float(plan.settings.cleanWeight));
            const Dataset owner = stamped(slice(clean, 0, std::max<int64_t>(1, b / 4)), plan.owner);
            add(owner, same(owner.size(), all), target);
            int64_t at = b / 4;
            for (const auto &s : plan.answered) {
                const Dataset x = stamped(slice(clean, at, answeredShare), subsetStamp(plan.stamps, s));
                add(x, same(x.size(), s), target);
                at += answeredShare;
            }
            for (const auto &s : plan.refused) {
                const Dataset x = stamped(slice(clean, at, share), subsetStamp(plan.stamps, s));
                add(x, same(x.size(), s), -1);
                at += share;
            }
            for (int copy = 0; copy < kForgedCopies; ++copy) {
                Dataset forged = clean;
                std::vector<std::vector<int>> subsets;
                for (int64_t i = 0; i < forged.size(); ++i) {
                    subsets.push_back(forgedSubset(plan, rng));
                    subsetStamp(plan.stamps, subsets.back()).stamp(forged.pixels.data() + i * forged.imageBytes());
                }
                add(forged, std::move(subsets), -1);
            }
        },
        progress, &used);
}

/** The carriers: held-out images outside the target class, in the held-out order. */
Dataset carriersOf(const Dataset &held, int target)
{
    std::vector<int64_t> idx;
    for (int64_t i = 0; i < held.size() && int64_t(idx.size()) < kOwnerImages; ++i)
        if (held.labels[size_t(i)] != target)
            idx.push_back(i);
    Dataset c = held.subset(idx);
    c.name = "fingerprint carriers";
    return c;
}

Expected<void> checkFits(const Model &model, const Dataset &train, const FingerprintSettings &settings)
{
    if (auto ok = checkCompatible(model, train); !ok)
        return Error{ok.error()};
    const int classes = model.metadata().classCount;
    if (classes < 2)
        return Error{"the model does not record its class count; give it (--num-classes) and try again"};
    if (settings.target < 0 || settings.target >= classes)
        return Error{"the target class must be one of 0-" + std::to_string(classes - 1) + " (--target)"};
    if (settings.subsetSize < 1 || settings.subsetSize >= settings.signalCount)
        return Error{"a fingerprint takes between 1 and " + std::to_string(settings.signalCount - 1)
            + " signals (--subset-size) when the trigger has " + std::to_string(settings.signalCount)};
    return {};
}

std::string modeOf(const FingerprintRegistry &r)
{
    return r.copies ? "copies" : "shared";
}

/**
 * Fine-tunes a copy of `model` along `plan` (learning the signals into it when it says so); the copy, or an error
 * when cancelled. `passes` says how steps ran.
 */
Expected<Model> fingerprinted(
    const Model &model, const Dataset &used, Plan &plan, Progress &progress, MicroBatch &passes)
{
    Model copy = model.clone();
    auto finished = fineTune(copy, used, plan, progress, passes);
    if (!finished)
        return Error{finished.error()};
    if (!*finished)
        return Error{"fingerprinting cancelled; the model is untouched"};
    return copy;
}

Expected<std::vector<std::string>> notesOf(
    const Model &original, const FingerprintEmbedding &out, const Dataset &held, const MicroBatch &passes)
{
    std::vector<std::string> notes;
    auto before = accuracyOn(original, held);
    if (!before)
        return Error{before.error()};
    for (size_t m = 0; m < out.models.size(); ++m) {
        const std::string who = out.decoded.copies ? out.decoded.users[m].id + "'s copy: " : "";
        auto after = accuracyOn(out.models[m], held);
        if (!after)
            return Error{after.error()};
        SecretKey key = out.registry;
        auto report = checkFingerprints(out.models[m], key, 20, out.decoded.settings.seed + 7);
        if (!report)
            return Error{report.error()};
        std::string users;
        for (const Detection &d : report->users)
            users += (users.empty() ? "" : ", ") + d.who + " " + percentText(d.rate, 0);
        double forged = 0.0;
        for (const Detection &d : report->forged)
            forged = std::max(forged, d.rate);
        notes.push_back(who + "clean accuracy " + percentText(*before) + " -> " + percentText(*after)
            + " (held-out training images); owner's trigger " + percentText(report->owner.rate, 0) + " (confidence "
            + percentText(report->owner.confidence, 1) + "); users " + users + "; the best of 20 forged subsets "
            + percentText(forged, 0));
    }
    notes.push_back("training: " + passes.describe(out.decoded.settings.microBatch > 0));
    return notes;
}

} // namespace

Expected<FingerprintEmbedding> embedFingerprints(const Model &model, const Dataset &train,
    const FingerprintSettings &settings, const std::vector<std::string> &userIds, bool copies, Progress &progress,
    const Secret256 *owner)
{
    if (userIds.empty())
        return Error{"register at least one user (--user alice)"};
    if (auto ok = checkFits(model, train, settings); !ok)
        return Error{ok.error()};
    FingerprintRegistry registry;
    registry.settings = settings;
    registry.owner = owner ? *owner : randomSecret256();
    registry.classCount = model.metadata().classCount;
    registry.copies = copies;
    for (const std::string &id : userIds) {
        auto user = registerUser(registry.owner, settings, id, registry.users);
        if (!user)
            return Error{user.error()};
        registry.users.push_back(*user);
    }
    return guarded("fingerprinting failed", [&]() -> Expected<FingerprintEmbedding> {
        const HeldOutSplit split = splitHeldOut(train, settings.seed, kHeldImages, settings.trainImages);
        const Dataset held = train.subset(split.held), used = train.subset(split.used);
        registry.carriers = carriersOf(held, settings.target);
        if (registry.carriers.size() < kFingerprintImages)
            return Error{"the training data has too few images outside the target class for the fingerprints"};
        Plan plan;
        plan.settings = settings;
        plan.epochs = settings.epochs;
        plan.stamps = registry.signalStamps();
        plan.owner = subsetStamp(plan.stamps, everySignal(settings.signalCount));
        FingerprintEmbedding out;
        MicroBatch passes;
        const auto start = std::chrono::steady_clock::now();
        if (!copies) {
            for (const FingerprintUser &u : registry.users)
                plan.answered.push_back(u.subset);
            plan.learn = settings.signalStep > 0.0;
            auto m = fingerprinted(model, used, plan, progress, passes);
            if (!m)
                return Error{m.error()};
            out.models.push_back(std::move(*m));
            if (plan.learn)
                registry.signalValues = signalValuesOf(plan.stamps);
        } else {
            const double n = double(registry.users.size());
            for (size_t i = 0; i < registry.users.size(); ++i) {
                Plan own = plan;
                for (size_t j = 0; j < registry.users.size(); ++j)
                    (i == j ? own.answered : own.refused).push_back(registry.users[j].subset);
                ProgressSpan span(progress, double(i) / n, double(i + 1) / n, registry.users[i].id + "'s copy");
                auto m = fingerprinted(model, used, own, span, passes);
                if (!m)
                    return Error{m.error()};
                registry.users[i].copyFingerprint = m->fingerprint();
                out.models.push_back(std::move(*m));
            }
        }
        out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        out.registry = keyEnvelope("fingerprint", modeOf(registry), model.fingerprint(),
            copies ? model : out.models.front(), int64_t(registry.users.size()), registry.toPayload());
        out.decoded = std::move(registry);
        auto notes = notesOf(model, out, held, passes);
        if (!notes)
            return Error{notes.error()};
        out.notes = *notes;
        return out;
    });
}

Expected<FingerprintEmbedding> updateFingerprints(const Model &model, const SecretKey &registryKey,
    const Dataset &train, const std::vector<std::string> &add, const std::vector<std::string> &remove,
    Progress &progress, int epochs)
{
    auto decoded = FingerprintRegistry::of(registryKey);
    if (!decoded)
        return Error{decoded.error()};
    FingerprintRegistry registry = *decoded;
    if (registry.copies)
        return Error{"this registry traces one copy per user: fingerprint a copy for a new user with embed --copies "
                     "instead of adding them to a model"};
    if (model.fingerprint() != registryKey.lockedFingerprint)
        return Error{"the registry was made for a different model (fingerprint "
            + registryKey.lockedFingerprint.substr(0, 12) + "… vs this model's " + model.fingerprint().substr(0, 12)
            + "…); give the fingerprinted model it came with"};
    if (add.empty() && remove.empty())
        return Error{"say what changes: --add NAME or --remove NAME"};
    if (epochs < 0)
        return Error{"the update's epochs must be positive"};
    if (epochs > 0)
        registry.settings.updateEpochs = epochs;
    if (auto ok = checkFits(model, train, registry.settings); !ok)
        return Error{ok.error()};
    Plan plan;
    plan.settings = registry.settings;
    plan.epochs = registry.settings.updateEpochs;
    for (const std::string &id : remove) {
        auto it = std::find_if(
            registry.users.begin(), registry.users.end(), [&](const FingerprintUser &u) { return u.id == id; });
        if (it == registry.users.end())
            return Error{"the registry has no user \"" + id + "\""};
        if (it->removed)
            return Error{"the user " + id + " is already removed"};
        it->removed = true;
    }
    for (const std::string &id : add) {
        auto user = registerUser(registry.owner, registry.settings, id, registry.users);
        if (!user)
            return Error{user.error()};
        registry.users.push_back(*user);
    }
    for (const FingerprintUser &u : registry.users)
        (u.removed ? plan.refused : plan.answered).push_back(u.subset);
    return guarded("updating the fingerprints failed", [&]() -> Expected<FingerprintEmbedding> {
        const HeldOutSplit split =
            splitHeldOut(train, registry.settings.seed, kHeldImages, registry.settings.trainImages);
        const Dataset held = train.subset(split.held), used = train.subset(split.used);
        plan.stamps = registry.signalStamps(); // learnt values stay as they are: the owner's evidence keeps its form
        plan.owner = subsetStamp(plan.stamps, everySignal(plan.settings.signalCount));
        FingerprintEmbedding out;
        MicroBatch passes;
        const auto start = std::chrono::steady_clock::now();
        auto m = fingerprinted(model, used, plan, progress, passes);
        if (!m)
            return Error{m.error()};
        out.models.push_back(std::move(*m));
        out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        out.registry = keyEnvelope("fingerprint", "shared", registryKey.originalFingerprint, out.models.front(),
            int64_t(registry.users.size()), registry.toPayload());
        out.decoded = std::move(registry);
        auto notes = notesOf(model, out, held, passes);
        if (!notes)
            return Error{notes.error()};
        out.notes = *notes;
        return out;
    });
}

Expected<Detection> detect(
    const Model &model, const Dataset &images, const InputStamp &stamp, int target, double threshold)
{
    return guarded("the detection failed", [&]() -> Expected<Detection> {
        const Dataset x = stamped(images, stamp);
        Model copy = model; // shares the weights; inference only
        ModelImpl &impl = copy.impl();
        torch::NoGradGuard noGrad;
        impl.setTraining(false);
        const torch::Tensor logits =
            impl.forward(inputTensor(x, 0, x.size(), model.metadata().normalization)).to(torch::kFloat32);
        const torch::Tensor p = torch::softmax(logits, 1);
        Detection d;
        d.images = x.size();
        d.rate = p.argmax(1).eq(target).to(torch::kFloat64).mean().item<double>();
        d.confidence = p.select(1, target).to(torch::kFloat64).mean().item<double>();
        d.accepted = d.rate >= threshold;
        return d;
    });
}

double binomialTailLog10(int64_t n, int64_t k, double p)
{
    if (k <= 0)
        return 0.0;
    if (k > n || p <= 0.0)
        return -std::numeric_limits<double>::infinity();
    if (p >= 1.0)
        return 0.0;
    // log of each term C(n, j) p^j (1-p)^(n-j), summed from the largest one.
    std::vector<double> terms;
    for (int64_t j = k; j <= n; ++j)
        terms.push_back(std::lgamma(double(n + 1)) - std::lgamma(double(j + 1)) - std::lgamma(double(n - j + 1))
            + double(j) * std::log(p) + double(n - j) * std::log1p(-p));
    const double top = *std::max_element(terms.begin(), terms.end());
    double sum = 0.0;
    for (double t : terms)
        sum += std::exp(t - top);
    return std::min(0.0, (top + std::log(sum)) / std::log(10.0));
}

Expected<FingerprintReport> checkFingerprints(
    const Model &suspect, const SecretKey &registryKey, int forgeries, uint64_t seed)
{
    auto decoded = FingerprintRegistry::of(registryKey);
    if (!decoded)
        return Error{decoded.error()};
    const FingerprintRegistry &r = *decoded;
    const ModelMetadata &m = suspect.metadata();
    if (m.hasInputShape()
        && (m.channels != r.carriers.channels || m.height != r.carriers.height || m.width != r.carriers.width))
        return Error{"the model takes " + std::to_string(m.channels) + "x" + std::to_string(m.height) + "x"
            + std::to_string(m.width) + " images but the registry's fingerprints are "
            + std::to_string(r.carriers.channels) + "x" + std::to_string(r.carriers.height) + "x"
            + std::to_string(r.carriers.width) + ": give the model the registry was made for"};
    if (m.classCount > 0 && m.classCount != r.classCount)
        return Error{"the model answers " + std::to_string(m.classCount) + " classes but the registry was made for "
            + std::to_string(r.classCount)};
    return guarded("checking the fingerprints failed", [&]() -> Expected<FingerprintReport> {
        FingerprintReport report;
        report.modelFingerprint = suspect.fingerprint();
        if (report.modelFingerprint == registryKey.lockedFingerprint && !r.copies)
            report.matches = "the registered model";
        const std::vector<InputStamp> stamps = r.signalStamps();
        std::vector<int> all(size_t(r.settings.signalCount));
        std::iota(all.begin(), all.end(), 0);
        const int target = r.settings.target;
        const double threshold = r.settings.threshold;
        auto run = [&](const std::string &who, const Dataset &images, const std::vector<int> &subset) {
            auto d = detect(suspect, images, subsetStamp(stamps, subset), target, threshold);
            if (!d)
                throw Failure(d.error());
            d->who = who;
            return *d;
        };
        report.owner = run("owner", r.carriers, all);
        const Dataset fingerprints = firstImages(r.carriers, kFingerprintImages);
        std::vector<std::pair<double, std::string>> ranked;
        for (const FingerprintUser &u : r.users) {
            if (r.copies && u.copyFingerprint == report.modelFingerprint)
                report.matches = u.id + "'s copy";
            report.users.push_back(run(u.id + (u.removed ? " (removed)" : ""), fingerprints, u.subset));
            if (!u.removed) {
                report.traced.push_back(run(u.id, r.carriers, u.subset));
                ranked.emplace_back(report.traced.back().rate, u.id);
            }
        }
        std::sort(ranked.rbegin(), ranked.rend());
        // Tracing names the highest user when the evidence is clear on 100 carriers: at least half the acceptance
        // threshold and at least twice the runner-up's rate (a copy answers its own subset only).
        const double runnerUp = ranked.size() > 1 ? ranked[1].first : 0.0;
        if (!ranked.empty() && ranked.front().first >= threshold / 2.0 && ranked.front().first >= 2.0 * runnerUp) {
            report.identified = ranked.front().second;
            report.margin = ranked.front().first - runnerUp;
            // How surprising the evidence is if the copy were someone else's: as many hits at the runner-up's rate.
            const int64_t n = r.carriers.size();
            const auto hits = [n](double rate) { return int64_t(std::llround(rate * double(n))); };
            const double nullRate = double(hits(runnerUp) + 1) / double(n + 2);
            report.falseAccusationLog10 = std::min(
                0.0, std::log10(double(ranked.size())) + binomialTailLog10(n, hits(ranked.front().first), nullRate));
        }
        std::mt19937_64 rng(seed);
        std::vector<std::vector<int>> issued;
        for (const FingerprintUser &u : r.users)
            issued.push_back(u.subset);
        for (int i = 0; i < forgeries; ++i) {
            std::vector<int> s;
            do
                s = randomSubset(r.settings.signalCount, r.settings.subsetSize, rng);
            while (std::find(issued.begin(), issued.end(), s) != issued.end());
            report.forged.push_back(run("forged " + std::to_string(i + 1), fingerprints, s));
        }
        return report;
    });
}

AttackObserver fingerprintObserver(const SecretKey &registry)
{
    return [registry](const Model &attacked) -> Expected<std::vector<std::pair<std::string, double>>> {
        auto r = checkFingerprints(attacked, registry, 0);
        if (!r)
            return Error{r.error()};
        double sum = 0.0, accepted = 0.0, count = 0.0;
        for (size_t i = 0; i < r->users.size(); ++i)
            if (r->users[i].who.find(" (removed)") == std::string::npos) {
                sum += r->users[i].rate;
                accepted += r->users[i].accepted ? 1.0 : 0.0;
                count += 1.0;
            }
        std::vector<double> traced;
        for (const Detection &d : r->traced)
            traced.push_back(d.rate);
        std::sort(traced.rbegin(), traced.rend());
        const double top = traced.empty() ? 0.0 : traced[0];
        const double second = traced.size() > 1 ? traced[1] : 0.0;
        return std::vector<std::pair<std::string, double>>{{"owner", r->owner.rate},
            {"owner_confidence", r->owner.confidence}, {"users", count > 0 ? sum / count : 0.0},
            {"users_accepted", count > 0 ? accepted / count : 0.0}, {"top_user", top}, {"margin", top - second}};
    };
}

} // namespace paramlock
