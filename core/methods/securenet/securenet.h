#pragma once

// Licence keys in the input, after SecureNet (Li et al., Neural Networks 2024) and M-LOCK's training recipe (Ren et
// al., TDSC 2022); ParamLock's design where the papers are silent (docs/licences.md). A licence is a secret input
// pattern drawn from a 256-bit secret (and, by default, moved by the training toward what the model tells apart);
// the model is fine-tuned so that inputs stamped with a licence keep their true answers (all of them, a subset of the
// classes, or only the group a class belongs to) and every other input (no pattern, a forged pattern of the same
// kind, a revoked licence's pattern) gets the uniform "not licensed" output. The owner's registry holds the owner's
// secret, from which each licensee's secret is derived, and the learnt patterns; a licence file holds one licensee's
// secret, pattern and what it may see. Nothing is restored: the licensed model is the product, and the licence is
// applied to every input by the runtime.

#include "dataset.h"
#include "expected.h"
#include "inputstamp.h"
#include "model.h"
#include "progress.h"
#include "protectionmethod.h"
#include "secretkey.h"
#include "unlocked.h"

#include <QImage>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace paramlock {

/** The owner's secret, or one licensee's (derived from the owner's). */
using LicenceSecret = Secret256;

/** The licence lock's settings (its parameter table). */
struct LicenceSettings
{
    std::string kind = "noise"; ///< "noise": ±amplitude on every pixel, signs secret; "patch": a secret square
    int amplitude = 32; ///< noise: grey levels added or taken on every pixel
    int patchSize = 5; ///< patch: side in pixels
    int epochs = 4; ///< the first lock's fine-tuning epochs
    int rekeyEpochs = 2; ///< a re-key's fine-tuning epochs
    int64_t trainImages = 0; ///< training images drawn with the seed (0: all but the held-out ones)
    double learningRate = 1e-3; ///< Adam
    /// The step size (the weights' and a learning pattern's) falls along a half cosine over the fine-tuning;
    /// false: constant (every registry before the setting existed)
    bool cosine = true;
    /// With the cosine: the share of the step size it falls to. Falling to 0 froze a refusal that was still weak on
    /// some secrets; 0.1 keeps it learning to the end (0 for every registry before the setting existed).
    double scheduleFloor = 0.1;
    /// How many times a licensee's stamped copy counts in the loss against each refused copy (clean, forged, old
    /// licences); 1 for every registry before the setting existed. 2 since the refusal leans (below): the lean keeps
    /// forged licences out, which the weight alone let in.
    double licensedWeight = 2.0;
    /// The share of a refused copy's target (clean, forged, old licences) moved from the uniform output onto one class,
    /// refusalClass(): the refusal then answers that class whatever the input, instead of a near-uniform output whose
    /// largest entry still leans toward the input's class. 0: uniform (every registry before the setting existed).
    double refusalLean = 0.05;
    int batchSize = 64; ///< clean images per step (each appears once per licensee, once clean, once per forged copy)
    int microBatch = 0; ///< images per forward and backward pass of a step (0: the fastest, measured; PoisonSchedule)
    int forgeryDraws = 1; ///< forged patterns drawn per forged image; training takes the most convincing (1: any)
    /// Forged copies of the clean images per step (0: one per licensee, the default and every registry before the
    /// setting existed); otherwise each forged image's near miss is of a licensee drawn for it. Fewer copies leave
    /// more of the loss to the licensed answers and shorten a step, and let more forged licences through.
    int forgedCopies = 0;
    /// The licensed model is an average of the weights over the fine-tuning's second half: their plain mean until
    /// it holds 1 / (1 - this) steps, then a moving average, each step entering with 1 - this
    /// (PoisonSchedule::averageDecay); 0: the last step's weights (every registry before the setting existed).
    double weightAverage = 0.999;
    /// noise: Adam's step on a new licence's pattern, in grey levels, while the weights train. The secret draws the
    /// pattern; the training moves it within ±amplitude toward what this model tells apart most easily, and the
    /// registry and the licence keep the result (0: the pattern stays as the secret drew it).
    double patternStep = 1.0;
    uint64_t seed = 0; ///< draws the training images and the forged patterns; never the secrets
};

/** The class a refusal leans to (LicenceSettings::refusalLean): drawn from the lock's seed. */
int refusalClass(const LicenceSettings &settings, int classCount);

/** What refused inputs are trained toward: (1 - lean) x uniform + lean on refusalClass() (lean 0: uniform). */
std::vector<float> refusalTarget(const LicenceSettings &settings, int classCount);

/** What a licensee may see. */
enum class LicenceScheme {
    Full, ///< every class
    Classes, ///< only the listed classes; other inputs get the uniform output
    Coarse, ///< only the group of classes an input belongs to (uniform within the group)
};

std::string schemeId(LicenceScheme scheme);

/** One licensee of a licensed model. */
struct Licensee
{
    std::string id; ///< who: "alice", "plant-3"
    LicenceScheme scheme = LicenceScheme::Full;
    std::vector<int> classes; ///< Classes: the answered classes
    std::vector<std::vector<int>> groups; ///< Coarse: a partition of the classes
    int generation = 0; ///< raised by every re-key: the secret is derived from it
    bool revoked = false;
    /// The noise pattern's values as the lock's training left them (one per pixel, within ±amplitude); empty: the
    /// pattern is the one the secret draws. Cleared by a re-key, which learns the new secret's.
    std::vector<int16_t> learned;

    /** The soft target for a licensed input of class `label` over `classCount` classes. */
    std::vector<float> target(int label, int classCount) const;
    /** "full", "classes 0,1,2", "coarse 0,2,3,4,6 | 1 | 5,7,9 | 8" */
    std::string describe() const;
};

/**
 * Parses a licensee as typed: "alice" (full), "bob:classes=0-4,7", "carol:coarse" (the default groups) or
 * "carol:coarse=0,2,3,4,6/1/5,7,9/8". The message names the licensee.
 */
Expected<Licensee> parseLicensee(const std::string &text, int classCount);

/** Fashion-MNIST's tops / trousers / footwear / bags for ten classes, else every class a group of its own. */
std::vector<std::vector<int>> defaultGroups(int classCount);

/** The pattern a secret gives for an image shape (ChaCha20 keystream of the secret). */
InputStamp licencePattern(
    const LicenceSecret &secret, const LicenceSettings &settings, int channels, int height, int width);

/** A licensee's pattern: the one its learnt values give (noise), else the one its secret draws. */
InputStamp licenseePattern(const LicenceSecret &secret, const Licensee &licensee, const LicenceSettings &settings,
    int channels, int height, int width);

/** A licensee's secret: keyed BLAKE2b of the owner's secret over the licensee's id and generation. */
LicenceSecret licenseeSecret(const LicenceSecret &owner, const std::string &id, int generation);

/** The owner's registry: the payload of the key envelope (method "securenet", mode "registry"). */
struct LicenceRegistry
{
    LicenceSettings settings;
    LicenceSecret owner{};
    int classCount = 0;
    std::vector<Licensee> licensees;

    const Licensee *find(const std::string &id) const;
    InputStamp patternOf(const Licensee &licensee, const Model &model) const;
    std::string toPayload() const;
    static Expected<LicenceRegistry> of(const SecretKey &key);
};

/** One licensee's licence: the payload of the key envelope (method "securenet", mode "licence"). */
struct Licence
{
    LicenceSettings settings; ///< the pattern's kind and size matter; the training settings are kept for the record
    Licensee licensee;
    LicenceSecret secret{};
    int classCount = 0;

    InputStamp pattern(int channels, int height, int width) const;
    std::string toPayload() const;
    static Expected<Licence> of(const SecretKey &key);
};

/** What a licence lock or a re-key produced. */
struct LicenceLock
{
    Model licensed; ///< an independent copy; the input is never changed
    SecretKey registry; ///< the owner's registry, bound to `licensed`
    LicenceRegistry decoded;
    std::vector<std::string> notes; ///< the checks on held-out training images, in words
    double seconds = 0.0; ///< the fine-tuning alone
    int epochs = 0;
    int64_t images = 0; ///< distinct training images used
};

/**
 * Licenses a copy of `model` for `licensees` (at least one, distinct ids) by fine-tuning on `train` (the training
 * split; images drawn with the settings' seed). A fresh owner secret from the system's random source (`owner` only
 * for tests). Cancelling or failing leaves `model` as it was.
 */
Expected<LicenceLock> licenceLock(const Model &model, const Dataset &train, const LicenceSettings &settings,
    const std::vector<Licensee> &licensees, Progress &progress, const LicenceSecret *owner = nullptr);

/** How a re-key runs (beside what it changes). */
struct RekeyOptions
{
    /// Fine-tuning epochs; 0: the registry's re-key epochs (with `original`: rekeyFromOriginalEpochs()). The new
    /// registry records what was used.
    int epochs = 0;
    /// The model the registry's first lock started from (checked by its fingerprint): the fine-tune starts from it
    /// instead of the licensed model, a fresh lock with the new licences and the old ones refused, for models whose
    /// licence switches unlicensed inputs off so far that a new licence cannot be taught on top (docs/findings.md).
    const Model *original = nullptr;
    /// How many times each replaced or revoked pattern's refused copy counts in the loss (each other refused copy
    /// counts once): the patterns a re-key must silence weigh what the licences it teaches weigh.
    double oldWeight = 2.0;
};

/** A re-key from the original's epochs unless given: half as many again as the first lock's (6 for 4). */
int rekeyFromOriginalEpochs(const LicenceSettings &settings);

/**
 * Re-keys a licensed model by a short fine-tune: each of `rekey` gets a new secret (its generation + 1), each of
 * `revoke` is revoked, each of `add` is added; the old patterns of re-keyed and revoked licensees are trained to the
 * refusal beside forged ones, the others keep their answers. `registry` must belong to `licensed`.
 */
Expected<LicenceLock> licenceRekey(const Model &licensed, const SecretKey &registry, const Dataset &train,
    const std::vector<std::string> &rekey, const std::vector<std::string> &revoke, const std::vector<Licensee> &add,
    Progress &progress, const RekeyOptions &options = {});

/** One licensee's licence from the owner's registry (refused for an unknown or revoked licensee). */
Expected<SecretKey> issueLicence(const SecretKey &registry, const std::string &licensee);

/** Whether a licence (or registry) belongs to this model; the message says why not. */
Expected<void> checkLicenceFits(const Model &model, const SecretKey &licence);

/** What a licensed model answers, measured on a test set. */
struct LicenceCheck
{
    double licensed = 0.0; ///< accuracy with the licence on the classes it answers (coarse: the right group)
    double answeredShare = 0.0; ///< share of the test images in answered classes
    double unlicensedClasses = -1.0; ///< mean top probability on classes the licence does not answer (-1: none)
    /// The same per class, indexed by class (-1 for the answered ones); empty when the licence answers every class.
    /// Which unlicensed classes keep an answer: those the task itself confuses with licensed ones (a shirt with a
    /// T-shirt) are answered more confidently than the uniform output.
    std::vector<double> unlicensedByClass;
    double withoutLicence = 0.0; ///< accuracy with no pattern
    double withoutTopProbability = 0.0; ///< mean top probability with no pattern (uniform: 1 / classes)
};

/**
 * `images`, each stamped with the most convincing of `settings.forgeryDraws` fresh forged patterns of the settings'
 * kind (secrets drawn from `rng`, draw by draw): the one for which `model` gives the image's own class the most
 * probability, the first on ties. The training refuses these when forgery-draws > 1; a forger's search finds them
 * first. Runs the model in inference mode and leaves it so.
 */
Expected<Dataset> hardForgeries(
    const Model &model, const Dataset &images, const LicenceSettings &settings, std::mt19937_64 &rng);

/** Measures a licence on the first `limit` test images (0: all). */
Expected<LicenceCheck> checkLicence(
    const Model &licensed, const Licence &licence, const Dataset &test, int64_t limit = 0);

/**
 * The model before licensing, scored as each licence is (LicenceCheck::licensed, without any pattern): the accuracy
 * on the classes the licence answers, for a coarse licence the share answered in the right group. What a licence
 * costs its licensee is the difference. One classification of the first `limit` test images (0: all) for them all.
 */
Expected<std::vector<double>> schemeAccuracies(
    const Model &original, const std::vector<Licensee> &licensees, const Dataset &test, int64_t limit = 0);

/** One licensee of a registry, measured on the licensed model beside the original scored the same way. */
struct LicenseeMeasure
{
    Licensee licensee;
    LicenceCheck check;
    double original = -1.0; ///< the model before licensing, scored as this licence is (-1: no original given)
};

/**
 * Every licensee of `registry` who is not revoked, measured on the first `limit` test images (0: all): each one's
 * LicenceCheck on `licensed` and, when `original` is a model, the original scored as that licence is.
 */
Expected<std::vector<LicenseeMeasure>> measureLicensees(
    const Model &original, const Model &licensed, const SecretKey &registry, const Dataset &test, int64_t limit = 0);

/**
 * How forged licences fare, measured as a forger would use one: `count` random secrets of the settings' kind (drawn
 * from `seed`) are each tried on the first `pickOn` test images, and the `recheck` that score best there are measured
 * again on the test images after those (up to `limit`, 0: all), which they were not picked on. The best of many on
 * the images that picked it is biased upward by the picking itself: on 1,000 images a model that answers a random
 * class scores about 13% at best of 1,000 (docs/licences.md, "Measuring forged licences").
 */
struct ForgedLicences
{
    struct Candidate
    {
        LicenceSecret secret{};
        double picked = 0.0; ///< accuracy on the images it was picked on
        double fresh = -1.0; ///< accuracy on the images after those (-1: none)
    };
    int64_t count = 0, pickedOn = 0, freshImages = 0;
    double best = 0.0, mean = 0.0, std = 0.0; ///< over the `count`, on the picking images
    std::vector<Candidate> top; ///< the best on the picking images first, each measured again
    /// The highest accuracy among the rechecked on fresh images (-1 when there were none).
    double bestFresh() const;
};

Expected<ForgedLicences> tryForgedLicences(const Model &licensed, const LicenceSettings &settings, const Dataset &test,
    int64_t count, int64_t pickOn, int64_t limit, uint64_t seed, int recheck, Progress &progress);

/** The adaptive attack natural to licences: an attacker with labelled images searches for a pattern of their own. */
struct PatternSearchOptions
{
    int steps = 300; ///< Adam steps on the additive pattern
    double learningRate = 2.0; ///< grey levels per step
    int batchSize = 64;
    uint64_t seed = 0;
};

/**
 * Optimises one additive pattern (any value per pixel, the stamped image clamped to 0..255) that makes `licensed`
 * classify `images` (the attacker's labelled images) right, by Adam on the cross-entropy; returns the pattern, rounded
 * to whole grey levels as a stamp is. A universal perturbation in the style of trigger reverse-engineering: it can
 * copy a patch or noise licence, or find any other input change the model answers to.
 */
Expected<InputStamp> searchPattern(
    const Model &licensed, const Dataset &images, const PatternSearchOptions &options, Progress &progress);

/** The licence lock's settings a generic request stands for, and back. */
Expected<LicenceSettings> licenceSettings(const ParameterValues &values);
ParameterValues valuesOfSettings(const LicenceSettings &settings);

/** SecureNet behind the method seam (the Licence capability). */
const ProtectionMethod &secureNetMethod();

/**
 * A licensed model used with its licence, for applications that embed ParamLock (beside UnlockedModel): every
 * image is stamped with the licence before the model sees it.
 *
 *     auto model = LicensedModel::open("licensed.pt", "alice.licence", password);
 *     auto classes = model->classifyFiles({"shoe.png"});
 */
class LicensedModel
{
public:
    static Expected<LicensedModel> open(
        const std::string &modelPath, const std::string &licencePath, const std::string &password = {});
    static Expected<LicensedModel> use(const Model &licensed, const SecretKey &licence);

    Expected<std::vector<Classification>> classify(const std::vector<QImage> &images) const;
    Expected<std::vector<Classification>> classifyFiles(const std::vector<std::string> &paths) const;
    const Licence &licence() const { return m_licence; }
    const ModelMetadata &metadata() const { return m_model.metadata(); }

private:
    LicensedModel(Model model, Licence licence) : m_model(std::move(model)), m_licence(std::move(licence)) { }
    Model m_model;
    Licence m_licence;
};

} // namespace paramlock
