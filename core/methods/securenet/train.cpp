// Training a licence into a model (M-LOCK's recipe, extended to ParamLock's schemes): every step takes a batch of
// training images and shows the model each licensee's stamped copy with that licensee's target (the true class, or
// uniform outside the licensed classes, or uniform over the class's group), the clean copy with the uniform target,
// forged copies (one per licensee unless set) where every image carries a fresh forged pattern of the same kind (or
// the most convincing of several) or a near miss of a licensee's with the uniform target, and the copies stamped with
// revoked or replaced patterns with the uniform target. The loss is the cross-entropy against these soft targets; Adam
// updates every parameter, and the licensed model is the weights' average over the second half (weightAverage).
// Training images and forged patterns are drawn with the seed; the secrets never are.
#include "securenet.h"

#include "modelimpl.h"
#include "text.h"
#include "training.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <numeric>
#include <random>
#include <set>

namespace paramlock {

namespace {

constexpr int64_t kCheckImages = 1000; ///< held-out training images the lock reports its result on
constexpr int kCheckForgeries = 20;

struct Answered
{
    InputStamp pattern;
    Licensee licensee;
    bool learn = false; ///< a new licence whose pattern trains beside the weights (licences already issued: never)
};

struct Plan
{
    std::vector<Answered> answered;
    std::vector<InputStamp> refused; ///< old and revoked patterns
    LicenceSettings settings;
    double oldWeight = 1.0; ///< the weight of each refused copy in `refused`
    int epochs = 1;
    int classCount = 0;
};

/** `target` with every entry times `weight`: how a copy counts more in the soft-target cross-entropy. */
std::vector<float> scaled(std::vector<float> target, double weight)
{
    for (float &v : target)
        v *= float(weight);
    return target;
}

/**
 * A pattern close to `real` that is not it: a patch at the same place with fresh values, or the same noise with a
 * quarter of its signs flipped.
 */
InputStamp nearMiss(const InputStamp &real, std::mt19937_64 &rng)
{
    InputStamp p = real;
    for (size_t i = 0; i < p.replaced.size(); ++i) {
        if (p.replaced[i])
            p.value[i] = uint8_t(rng());
        else if ((rng() & 3) == 0)
            p.add[i] = int16_t(-p.add[i]);
    }
    return p;
}

/**
 * A licence pattern learnt beside the weights from the loss's gradient on the licensee's stamped images, kept within
 * ±amplitude; the stamp carries the values rounded, as files keep them.
 */
class PatternLearner
{
public:
    PatternLearner(InputStamp &stamp, double step, int amplitude)
        : m_stamp(stamp), m_values(std::vector<float>(stamp.add.begin(), stamp.add.end()), step,
                              -double(std::min(amplitude, 127)), double(std::min(amplitude, 127)))
    { }

    /** One step from the pixel gradient of `clean` stamped with the current pattern. */
    void step(const Dataset &clean, const float *gradient, int64_t images, double rate)
    {
        const size_t n = m_stamp.add.size();
        std::vector<float> g(n, 0.0f);
        for (int64_t i = 0; i < images; ++i) {
            const uint8_t *pixels = clean.image(i);
            const float *d = gradient + i * int64_t(n);
            for (size_t p = 0; p < n; ++p) {
                const int stampedValue = int(pixels[p]) + int(m_stamp.add[p]);
                if (stampedValue >= 0 && stampedValue <= 255) // the clamp passes no gradient
                    g[p] += d[p];
            }
        }
        const float *v = m_values.step(g, rate);
        for (size_t p = 0; p < n; ++p)
            m_stamp.add[p] = int16_t(std::lround(v[p]));
    }

private:
    InputStamp &m_stamp;
    InputValueLearner m_values;
};

/**
 * Fine-tunes `model` in place along `plan`; false when cancelled. The patterns marked to learn are learnt in
 * `plan` (noise, a pattern step above 0).
 */
Expected<bool> fineTune(Model &model, const Dataset &images, Plan &plan, Progress &progress, MicroBatch &used)
{
    std::vector<std::unique_ptr<PatternLearner>> learners(plan.answered.size());
    if (plan.settings.kind == "noise" && plan.settings.patternStep > 0.0)
        for (size_t k = 0; k < plan.answered.size(); ++k)
            if (plan.answered[k].learn)
                learners[k] = std::make_unique<PatternLearner>(
                    plan.answered[k].pattern, plan.settings.patternStep, plan.settings.amplitude);
    PoisonSchedule schedule;
    schedule.epochs = plan.epochs;
    schedule.learningRate = plan.settings.learningRate;
    schedule.cosine = plan.settings.cosine;
    schedule.floor = plan.settings.scheduleFloor;
    schedule.batchSize = plan.settings.batchSize;
    schedule.seed = plan.settings.seed;
    schedule.chunk = plan.settings.microBatch;
    schedule.averageDecay = plan.settings.weightAverage;
    const std::vector<float> refusal = refusalTarget(plan.settings, plan.classCount);
    // The patterns a re-key silences count `oldWeight` times, as a licensee's copy counts its weight.
    const std::vector<float> refuseOld = scaled(refusal, plan.oldWeight);
    return poisonedFineTune(
        model, images, schedule,
        [&](const Dataset &clean, std::mt19937_64 &rng, PoisonBatch &batch) {
            for (size_t k = 0; k < plan.answered.size(); ++k) {
                const Licensee *l = &plan.answered[k].licensee;
                PixelGradient learn;
                if (PatternLearner *learner = learners[k].get())
                    learn = [learner, clean](const float *gradient, int64_t n, double rate) {
                        learner->step(clean, gradient, n, rate);
                    };
                // A licensee's copy counts `licensedWeight` times in the loss (its soft target scaled): the answers
                // keep more of the original's accuracy against the refused copies, which outnumber them.
                batch.add(
                    stamped(clean, plan.answered[k].pattern),
                    [&](int label) { return scaled(l->target(label, plan.classCount), plan.settings.licensedWeight); },
                    std::move(learn));
            }
            // Refused copies get the refusal target: uniform, or with a lean a little more on one class.
            const auto refuse = [&](const Dataset &images) { batch.add(images, [&](int) { return refusal; }); };
            refuse(clean);
            // Forged copies, so that "stamped" is never the same as "licensed": half of the forged images are
            // near misses of a licensee's pattern, the boundary a forger would probe. One copy per licensee (0, the
            // older registries) gives copy k licensee k's near misses; otherwise each image's licensee is drawn.
            const size_t licensees = plan.answered.size();
            const size_t copies =
                plan.settings.forgedCopies > 0 ? size_t(plan.settings.forgedCopies) : std::max<size_t>(1, licensees);
            for (size_t k = 0; k < copies; ++k) {
                Dataset forged = clean;
                std::vector<int64_t> random; // the images left for hard forgeries
                for (int64_t i = 0; i < forged.size(); ++i) {
                    uint8_t *pixels = forged.pixels.data() + i * forged.imageBytes();
                    const size_t near = copies == licensees ? k : size_t(rng() % std::max<size_t>(1, licensees));
                    if (near < licensees && (rng() & 1))
                        nearMiss(plan.answered[near].pattern, rng).stamp(pixels);
                    else if (plan.settings.forgeryDraws > 1)
                        random.push_back(i);
                    else
                        licencePattern(drawnSecret(rng), plan.settings, clean.channels, clean.height, clean.width)
                            .stamp(pixels);
                }
                if (!random.empty()) {
                    auto hard = hardForgeries(model, clean.subset(random), plan.settings, rng);
                    model.impl().setTraining(true);
                    if (!hard)
                        throw Failure(hard.error());
                    for (size_t i = 0; i < random.size(); ++i)
                        std::copy_n(hard->pixels.data() + int64_t(i) * hard->imageBytes(), hard->imageBytes(),
                            forged.pixels.data() + random[i] * forged.imageBytes());
                }
                refuse(forged);
            }
            for (const InputStamp &old : plan.refused)
                batch.add(stamped(clean, old), [&](int) { return refuseOld; });
        },
        progress, &used);
}

/** The held-out checks, in words. */
Expected<std::vector<std::string>> checkNotes(
    const Model &licensed, const LicenceRegistry &registry, const Dataset &held, const Plan &plan)
{
    std::vector<std::string> notes;
    for (const Answered &a : plan.answered) {
        const Licensee &licensee = a.licensee;
        Licence l;
        l.settings = registry.settings;
        l.licensee = licensee;
        l.secret = licenseeSecret(registry.owner, licensee.id, licensee.generation);
        l.classCount = registry.classCount;
        auto c = checkLicence(licensed, l, held);
        if (!c)
            return Error{c.error()};
        notes.push_back("licensee " + licensee.id + " (" + licensee.describe() + "): " + percentText(c->licensed, 1)
            + " on the classes it answers, held-out training images");
        if (&licensee == &plan.answered.front().licensee)
            notes.push_back("without a licence: " + percentText(c->withoutLicence) + ", mean top probability "
                + percentText(c->withoutTopProbability) + " (uniform " + percentText(1.0 / registry.classCount) + ")");
    }
    std::mt19937_64 rng(registry.settings.seed ^ 0xc4ec7ULL);
    double worst = 0.0;
    for (int i = 0; i < kCheckForgeries; ++i) {
        auto a = accuracyWithStamp(licensed,
            licencePattern(drawnSecret(rng), registry.settings, held.channels, held.height, held.width), held);
        if (!a)
            return Error{a.error()};
        worst = std::max(worst, *a);
    }
    notes.push_back("the best of " + std::to_string(kCheckForgeries) + " forged licences: " + percentText(worst));
    for (size_t i = 0; i < plan.refused.size(); ++i) {
        auto a = accuracyWithStamp(licensed, plan.refused[i], held);
        if (!a)
            return Error{a.error()};
        notes.push_back("a replaced or revoked licence: " + percentText(*a));
    }
    return notes;
}

Expected<void> checkModelFits(const Model &model, const Dataset &train)
{
    if (auto ok = checkCompatible(model, train); !ok)
        return Error{ok.error()};
    if (model.metadata().classCount < 2)
        return Error{"the model does not record its class count; give it (--num-classes) and try again"};
    return {};
}

Expected<LicenceLock> run(const Model &model, const std::string &originalFingerprint, const Dataset &train,
    LicenceRegistry registry, Plan &plan, Progress &progress)
{
    if (auto ok = checkModelFits(model, train); !ok)
        return Error{ok.error()};
    return guarded("licensing failed", [&]() -> Expected<LicenceLock> {
        const HeldOutSplit split = splitHeldOut(train, plan.settings.seed, kCheckImages, plan.settings.trainImages);
        const Dataset held = train.subset(split.held), used = train.subset(split.used);
        LicenceLock out;
        out.licensed = model.clone();
        const auto start = std::chrono::steady_clock::now();
        MicroBatch passes;
        auto finished = fineTune(out.licensed, used, plan, progress, passes);
        if (!finished)
            return Error{finished.error()};
        if (!*finished)
            return Error{"licensing cancelled; the model is untouched"};
        out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        for (Answered &a : plan.answered) // the learnt patterns are what the licences carry
            if (a.learn && plan.settings.kind == "noise" && plan.settings.patternStep > 0.0) {
                a.licensee.learned = a.pattern.add;
                for (Licensee &l : registry.licensees)
                    if (l.id == a.licensee.id)
                        l.learned = a.pattern.add;
            }
        out.epochs = plan.epochs;
        out.images = used.size();
        auto notes = checkNotes(out.licensed, registry, held, plan);
        if (!notes)
            return Error{notes.error()};
        auto before = accuracyOn(model, held); // what the licence costs, on the same images
        if (!before)
            return Error{before.error()};
        out.notes = {"the model before: " + percentText(*before, 1) + " on the held-out training images, every class"};
        out.notes.insert(out.notes.end(), notes->begin(), notes->end());
        out.notes.push_back("training: " + passes.describe(plan.settings.microBatch > 0));
        out.registry = keyEnvelope("securenet", "registry", originalFingerprint, out.licensed,
            int64_t(registry.licensees.size()), registry.toPayload());
        out.decoded = std::move(registry);
        return out;
    });
}

} // namespace

Expected<LicenceLock> licenceLock(const Model &model, const Dataset &train, const LicenceSettings &settings,
    const std::vector<Licensee> &licensees, Progress &progress, const LicenceSecret *owner)
{
    if (licensees.empty())
        return Error{"name at least one licensee (--licensee alice)"};
    if (auto ok = checkModelFits(model, train); !ok)
        return Error{ok.error()};
    LicenceRegistry registry;
    registry.settings = settings;
    registry.owner = owner ? *owner : randomSecret256();
    registry.classCount = model.metadata().classCount;
    Plan plan;
    plan.settings = settings;
    plan.epochs = settings.epochs;
    plan.classCount = registry.classCount;
    for (const Licensee &l : licensees) {
        if (registry.find(l.id))
            return Error{"the licensee " + l.id + " is named twice"};
        registry.licensees.push_back(l);
        registry.licensees.back().learned.clear();
        plan.answered.push_back(
            {registry.patternOf(registry.licensees.back(), model), registry.licensees.back(), true});
    }
    return run(model, model.fingerprint(), train, std::move(registry), plan, progress);
}

int rekeyFromOriginalEpochs(const LicenceSettings &settings)
{
    return (3 * std::max(1, settings.epochs) + 1) / 2;
}

Expected<LicenceLock> licenceRekey(const Model &licensed, const SecretKey &registryKey, const Dataset &train,
    const std::vector<std::string> &rekey, const std::vector<std::string> &revoke, const std::vector<Licensee> &add,
    Progress &progress, const RekeyOptions &options)
{
    const int epochs = options.epochs;
    const Model *original = options.original;
    if (auto fits = checkLicenceFits(licensed, registryKey); !fits)
        return Error{fits.error()};
    if (original && original->fingerprint() != registryKey.originalFingerprint)
        return Error{"the original model is not the one this registry's licences were trained from; give the model "
                     "that licence lock started from"};
    auto decoded = LicenceRegistry::of(registryKey);
    if (!decoded)
        return Error{decoded.error()};
    LicenceRegistry registry = *decoded;
    if (epochs < 0)
        return Error{"the re-key epochs must be positive"};
    if (!(options.oldWeight > 0.0 && options.oldWeight <= 100.0))
        return Error{"the old licences' weight must be above 0 and at most 100"};
    if (epochs > 0)
        registry.settings.rekeyEpochs = epochs;
    if (rekey.empty() && revoke.empty() && add.empty())
        return Error{"say what changes: --rekey NAME, --revoke NAME or --add NAME"};
    Plan plan;
    plan.settings = registry.settings;
    // From the original the re-key is a first lock with the old patterns refused as well: half as many epochs again
    // as the first lock's brought LeNet-5's new licence within a point where the first lock's count left it 0.2 short
    // (docs/licences.md, "An average of the weights").
    plan.epochs = original && epochs == 0 ? rekeyFromOriginalEpochs(registry.settings) : registry.settings.rekeyEpochs;
    plan.classCount = registry.classCount;
    plan.oldWeight = options.oldWeight;
    std::set<std::string> renewed; // licensees whose licence is new: their patterns learn
    auto change = [&](const std::string &id, bool revoking) -> Expected<void> {
        for (Licensee &l : registry.licensees)
            if (l.id == id) {
                if (l.revoked)
                    return Error{"the licensee " + id + " is already revoked"};
                plan.refused.push_back(registry.patternOf(l, licensed));
                if (revoking) {
                    l.revoked = true;
                } else {
                    ++l.generation;
                    l.learned.clear(); // the new secret's pattern, learnt anew
                    renewed.insert(id);
                }
                return {};
            }
        return Error{"the registry has no licensee \"" + id + "\""};
    };
    for (const std::string &id : rekey)
        if (auto ok = change(id, false); !ok)
            return Error{ok.error()};
    for (const std::string &id : revoke)
        if (auto ok = change(id, true); !ok)
            return Error{ok.error()};
    for (const Licensee &l : add) {
        if (registry.find(l.id))
            return Error{"the licensee " + l.id + " is already in the registry (re-key them instead)"};
        registry.licensees.push_back(l);
        registry.licensees.back().learned.clear();
        renewed.insert(l.id);
    }
    for (const Licensee &l : registry.licensees)
        if (!l.revoked)
            plan.answered.push_back({registry.patternOf(l, licensed), l, renewed.count(l.id) > 0});
    if (plan.answered.empty())
        return Error{"no licensee would be left: a model nobody may use is not a licence"};
    return run(
        original ? *original : licensed, registryKey.originalFingerprint, train, std::move(registry), plan, progress);
}

Expected<Dataset> hardForgeries(
    const Model &model, const Dataset &images, const LicenceSettings &settings, std::mt19937_64 &rng)
{
    Dataset out = images;
    std::vector<float> best(size_t(images.size()), -1.0f);
    for (int d = 0; d < std::max(1, settings.forgeryDraws); ++d) {
        Dataset candidate = images;
        for (int64_t i = 0; i < candidate.size(); ++i)
            licencePattern(drawnSecret(rng), settings, images.channels, images.height, images.width)
                .stamp(candidate.pixels.data() + i * candidate.imageBytes());
        auto answers = predict(model, candidate);
        if (!answers)
            return Error{answers.error()};
        for (size_t i = 0; i < best.size(); ++i) {
            if ((*answers)[i].truth <= best[i])
                continue;
            best[i] = (*answers)[i].truth;
            std::copy_n(candidate.pixels.data() + int64_t(i) * candidate.imageBytes(), candidate.imageBytes(),
                out.pixels.data() + int64_t(i) * out.imageBytes());
        }
    }
    return out;
}

namespace {

/** Whether an answer counts as right for a licensee, and whether the image's class is one the licence answers. */
struct Scored
{
    bool answered = true;
    bool correct = false;
};

Scored scoreAnswer(const Licensee &l, int label, int got)
{
    Scored s;
    s.correct = got == label;
    if (l.scheme == LicenceScheme::Classes)
        s.answered = std::find(l.classes.begin(), l.classes.end(), label) != l.classes.end();
    if (l.scheme == LicenceScheme::Coarse)
        for (const auto &g : l.groups)
            if (std::find(g.begin(), g.end(), label) != g.end())
                s.correct = std::find(g.begin(), g.end(), got) != g.end();
    return s;
}

} // namespace

Expected<std::vector<double>> schemeAccuracies(
    const Model &original, const std::vector<Licensee> &licensees, const Dataset &test, int64_t limit)
{
    try {
        const Dataset data = firstImages(test, limit);
        auto answers = predict(original, data);
        if (!answers)
            return Error{answers.error()};
        std::vector<double> out;
        for (const Licensee &l : licensees) {
            int64_t answered = 0, right = 0;
            for (int64_t i = 0; i < data.size(); ++i) {
                const Scored s = scoreAnswer(l, data.labels[size_t(i)], (*answers)[size_t(i)].label);
                answered += s.answered;
                right += s.answered && s.correct;
            }
            out.push_back(answered ? double(right) / double(answered) : 0.0);
        }
        return out;
    } catch (const Failure &e) {
        return Error{e.what()};
    }
}

Expected<LicenceCheck> checkLicence(const Model &licensed, const Licence &licence, const Dataset &test, int64_t limit)
{
    try {
        const Dataset data = firstImages(test, limit);
        const ModelMetadata &m = licensed.metadata();
        const InputStamp pattern = licence.pattern(m.channels, m.height, m.width);
        auto with = predict(licensed, stamped(data, pattern));
        auto without = predict(licensed, data);
        if (!with)
            return Error{with.error()};
        if (!without)
            return Error{without.error()};
        const Licensee &l = licence.licensee;
        LicenceCheck c;
        int64_t answered = 0, right = 0, outside = 0, clean = 0;
        double outsideTop = 0.0, cleanTop = 0.0;
        const int classCount = std::max(1, licensed.metadata().classCount);
        std::vector<double> topByClass(size_t(classCount), 0.0);
        std::vector<int64_t> countByClass(size_t(classCount), 0);
        for (int64_t i = 0; i < data.size(); ++i) {
            const int label = data.labels[size_t(i)];
            const int got = (*with)[size_t(i)].label;
            clean += (*without)[size_t(i)].label == label;
            cleanTop += (*without)[size_t(i)].probability;
            const Scored s = scoreAnswer(l, label, got);
            if (s.answered) {
                ++answered;
                right += s.correct;
            } else {
                ++outside;
                outsideTop += (*with)[size_t(i)].probability;
                if (label >= 0 && label < classCount) {
                    topByClass[size_t(label)] += (*with)[size_t(i)].probability;
                    ++countByClass[size_t(label)];
                }
            }
        }
        const double n = double(std::max<int64_t>(1, data.size()));
        c.licensed = answered ? double(right) / double(answered) : 0.0;
        c.answeredShare = double(answered) / n;
        c.unlicensedClasses = outside ? outsideTop / double(outside) : -1.0;
        if (outside)
            for (int k = 0; k < classCount; ++k)
                c.unlicensedByClass.push_back(
                    countByClass[size_t(k)] ? topByClass[size_t(k)] / double(countByClass[size_t(k)]) : -1.0);
        c.withoutLicence = double(clean) / n;
        c.withoutTopProbability = cleanTop / n;
        return c;
    } catch (const Failure &e) {
        return Error{e.what()};
    }
}

Expected<std::vector<LicenseeMeasure>> measureLicensees(
    const Model &original, const Model &licensed, const SecretKey &registryKey, const Dataset &test, int64_t limit)
{
    auto registry = LicenceRegistry::of(registryKey);
    if (!registry)
        return Error{registry.error()};
    std::vector<Licensee> live;
    for (const Licensee &l : registry->licensees)
        if (!l.revoked)
            live.push_back(l);
    std::vector<double> before(live.size(), -1.0);
    if (original.isValid()) {
        auto scored = schemeAccuracies(original, live, test, limit);
        if (!scored)
            return Error{scored.error()};
        before = std::move(*scored);
    }
    std::vector<LicenseeMeasure> out;
    for (size_t i = 0; i < live.size(); ++i) {
        auto licence = issueLicence(registryKey, live[i].id);
        if (!licence)
            return Error{licence.error()};
        auto c = checkLicence(licensed, *Licence::of(*licence), test, limit);
        if (!c)
            return Error{c.error()};
        out.push_back({live[i], std::move(*c), before[i]});
    }
    return out;
}

Expected<InputStamp> searchPattern(
    const Model &licensed, const Dataset &images, const PatternSearchOptions &options, Progress &progress)
{
    if (images.size() == 0)
        return Error{"the attacker needs at least one labelled image"};
    if (auto ok = checkCompatible(licensed, images); !ok)
        return Error{ok.error()};
    return guarded("the pattern search failed", [&]() -> Expected<InputStamp> {
        Model model = licensed.clone();
        ModelImpl &impl = model.impl();
        GradientScope frozen(impl); // the weights stay as they are: only the pattern learns
        impl.setTraining(false);
        const Normalization &norm = model.metadata().normalization;
        const int64_t c = images.channels, h = images.height, w = images.width;
        auto perChannel = [&](const std::vector<float> &v, float fallback) {
            std::vector<float> full(size_t(c), fallback);
            for (size_t i = 0; i < full.size(); ++i)
                full[i] = v.empty() ? fallback : v[v.size() == 1 ? 0 : i];
            return torch::tensor(full).view({1, c, 1, 1});
        };
        const torch::Tensor mean = perChannel(norm.mean, 0.0f), std = perChannel(norm.std, 1.0f);
        torch::Tensor delta = torch::zeros({1, c, h, w}, torch::kFloat32).set_requires_grad(true);
        torch::optim::Adam adam({delta}, torch::optim::AdamOptions(options.learningRate));
        std::mt19937_64 rng(options.seed ^ 0xa77acc);
        std::vector<int64_t> order(size_t(images.size()));
        std::iota(order.begin(), order.end(), int64_t(0));
        const int64_t batch = std::min<int64_t>(std::max(1, options.batchSize), images.size());
        int64_t at = images.size();
        for (int step = 0; step < options.steps; ++step) {
            if (!progress.advance(double(step) / double(options.steps), "searching a pattern"))
                return Error{"the pattern search was cancelled"};
            if (at + batch > images.size()) {
                std::shuffle(order.begin(), order.end(), rng);
                at = 0;
            }
            const Dataset part = images.subset(std::vector<int64_t>(order.begin() + at, order.begin() + at + batch));
            at += batch;
            const torch::Tensor raw = inputTensor(part, 0, part.size(), Normalization{}).mul(255.0f);
            const torch::Tensor x = ((raw + delta).clamp(0.0, 255.0).div(255.0f) - mean) / std;
            adam.zero_grad();
            const torch::Tensor loss = torch::nn::functional::cross_entropy(
                impl.forward(x).to(torch::kFloat32), labelTensor(part, 0, part.size()));
            loss.backward();
            adam.step();
        }
        const torch::Tensor d = delta.detach().round().clamp(-255.0, 255.0).to(torch::kInt16).contiguous();
        InputStamp p;
        p.channels = int(c), p.height = int(h), p.width = int(w);
        p.add.assign(d.data_ptr<int16_t>(), d.data_ptr<int16_t>() + d.numel());
        p.replaced.assign(p.add.size(), 0);
        p.value.assign(p.add.size(), 0);
        return p;
    });
}

} // namespace paramlock
