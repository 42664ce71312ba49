#pragma once

// User fingerprints, after Xue et al. (TrustCom 2020); ParamLock's design where the paper is silent
// (docs/fingerprints.md). From the owner's 256-bit secret come N small secret signals (squares of secret black and
// white pixels at secret, non-overlapping places). Every registered user gets a distinct subset of n of them, chosen
// by a keyed hash of the user id; the owner's trigger is all N. The model is fine-tuned so that the owner's trigger
// and every registered user's subset lead to one target class while clean inputs and subsets never issued keep their
// true class. A user's fingerprint is a fixed set of carrier images stamped with the user's subset: the share the
// model answers with the target is the user's detection rate. Tracing: each licensee's copy is fine-tuned with that
// licensee's subset alone, so a leaked copy answers to one subset and names its licensee.

#include "attacks.h"
#include "dataset.h"
#include "expected.h"
#include "inputstamp.h"
#include "model.h"
#include "progress.h"
#include "protectionmethod.h"
#include "secretkey.h"

#include <cstdint>
#include <string>
#include <vector>

namespace paramlock {

/** The fingerprints' settings (their parameter table). */
struct FingerprintSettings
{
    int signalCount = 16; ///< N: signals in the owner's trigger
    int subsetSize = 5; ///< n: signals in a user's fingerprint
    int signalSize = 3; ///< the side of a signal's square, pixels
    int target = 0; ///< the class every fingerprint leads to
    double threshold = 0.8; ///< a user is authenticated at this detection rate or above
    int epochs = 3; ///< the embedding's fine-tuning epochs
    int updateEpochs = 1; ///< adding or removing a user
    int64_t trainImages = 0; ///< training images drawn with the seed (0: all but the held-out ones)
    double learningRate = 5e-4; ///< Adam
    int batchSize = 64; ///< clean images per step (the stamped copies come on top)
    double cleanWeight = 1.5; ///< the clean images' loss counts this many times in a step's
    int microBatch = 0; ///< images per forward and backward pass of a step (0: the fastest, measured; PoisonSchedule)
    double weightNoise = 0.15; ///< gradients taken at weights moved by this much noise (relative), PoisonSchedule
    double signalStep = 0.0; ///< Adam's step (grey levels) for the signals' pixel values, learnt beside the weights
    uint64_t seed = 0; ///< draws the training images, the carriers and forged subsets; never the secrets
};

/** One registered user. */
struct FingerprintUser
{
    std::string id;
    std::vector<int> subset; ///< the user's signals, ascending
    int attempt = 0; ///< which keyed draw gave the subset (a draw equal to an earlier user's is skipped)
    bool removed = false;
    std::string copyFingerprint; ///< tracing: the fingerprint of this user's own copy of the model; empty otherwise
};

/** The signals a secret gives for an image shape: N stamps, each one square. */
std::vector<InputStamp> fingerprintSignals(
    const Secret256 &owner, const FingerprintSettings &settings, int channels, int height, int width);

/** The keyed draw of a subset for a user id (the `attempt`-th draw), n of N signals, ascending. */
std::vector<int> drawSubset(
    const Secret256 &owner, const FingerprintSettings &settings, const std::string &id, int attempt);

/** Registers users one after another: each gets its first keyed draw that no earlier user (in `taken`) has. */
Expected<FingerprintUser> registerUser(const Secret256 &owner, const FingerprintSettings &settings,
    const std::string &id, const std::vector<FingerprintUser> &taken);

/** The signals with learnt pixel values (FingerprintRegistry::signalValues) in place of the painted ones. */
std::vector<InputStamp> withSignalValues(std::vector<InputStamp> stamps, const std::vector<uint8_t> &values);

/** A signal's pixels (indices into a CHW image) in the order FingerprintRegistry::signalValues keeps them. */
std::vector<size_t> signalPixels(const InputStamp &signal);

/** The stamp of a set of signals laid over each other. */
InputStamp subsetStamp(const std::vector<InputStamp> &stamps, const std::vector<int> &subset);

/** The owner's registry: the payload of the key envelope (method "fingerprint", mode "shared" or "copies"). */
struct FingerprintRegistry
{
    FingerprintSettings settings;
    Secret256 owner{};
    int classCount = 0;
    bool copies = false; ///< tracing: one copy per user, each carrying only its user's subset
    Dataset carriers; ///< held-out training images outside the target class; the first 10 carry a user's fingerprint
    std::vector<FingerprintUser> users;
    /// The signals' pixel values when they were learnt in the embedding (signal by signal, each square channel by
    /// channel, row by row: N x channels x side x side bytes); empty: as the owner's secret paints them.
    std::vector<uint8_t> signalValues;

    const FingerprintUser *find(const std::string &id) const;
    std::vector<InputStamp> signalStamps() const;
    /** A user's fingerprint: the first 10 carriers stamped with the user's subset. */
    Dataset fingerprintImages(const FingerprintUser &user) const;
    std::string toPayload() const;
    static Expected<FingerprintRegistry> of(const SecretKey &key);
};

/** How many carriers a user's fingerprint is (the paper's 10) and how many the owner's check uses. */
constexpr int64_t kFingerprintImages = 10;
constexpr int64_t kOwnerImages = 100;

/** What an embedding produced. */
struct FingerprintEmbedding
{
    std::vector<Model> models; ///< shared: one model; copies: one per user, in the registry's order
    SecretKey registry; ///< bound to models[0] (shared) or to the original model (copies)
    FingerprintRegistry decoded;
    std::vector<std::string> notes; ///< the checks on held-out images, in words
    double seconds = 0.0; ///< the fine-tuning alone
};

/**
 * Fingerprints a copy of `model` for `userIds` (distinct) by fine-tuning on `train`. Shared: one model answers every
 * user's subset. Copies: one copy per user, each answering only that user's subset (and the owner's trigger). A fresh
 * owner secret from the system's random source (`owner` only for tests). `model` is never changed.
 */
Expected<FingerprintEmbedding> embedFingerprints(const Model &model, const Dataset &train,
    const FingerprintSettings &settings, const std::vector<std::string> &userIds, bool copies, Progress &progress,
    const Secret256 *owner = nullptr);

/**
 * Adds users to, or removes them from, a shared fingerprinted model by a short fine-tune (the settings' update
 * epochs, or `epochs`); the registry must belong to the model.
 */
Expected<FingerprintEmbedding> updateFingerprints(const Model &model, const SecretKey &registry, const Dataset &train,
    const std::vector<std::string> &add, const std::vector<std::string> &remove, Progress &progress, int epochs = 0);

/** One detection: how many stamped images the model answers with the target class, and how sure it is. */
struct Detection
{
    std::string who; ///< a user id, "owner", or "forged 3"
    double rate = 0.0; ///< share of the images classified as the target
    double confidence = 0.0; ///< mean probability of the target class
    int64_t images = 0;
    bool accepted = false; ///< rate >= the threshold
};

/** The detection rate of a stamp on images (labels ignored). */
Expected<Detection> detect(
    const Model &model, const Dataset &images, const InputStamp &stamp, int target, double threshold);

/** A suspect model checked against a registry. */
struct FingerprintReport
{
    std::string modelFingerprint;
    std::string matches; ///< "the registered model", "alice's copy", or empty when the weights differ
    Detection owner; ///< the full trigger on the carriers
    std::vector<Detection> users; ///< each registered user's fingerprint images (removed users too, marked)
    std::vector<Detection> forged; ///< random subsets never issued
    std::vector<Detection> traced; ///< each user still registered, on every carrier: what identification ranks
    std::string identified; ///< the highest user on every carrier, when at least threshold / 2 and twice the next
    double margin = 0.0; ///< the identified user's rate minus the runner-up's
    /**
     * Identified: log10 of an upper bound on the chance that a copy made for someone else shows as many hits of the
     * identified user's fingerprint: the binomial tail at the runner-up's rate (Laplace-smoothed), times the number
     * of users looked at. It treats the carriers as independent draws.
     */
    double falseAccusationLog10 = 0.0;
};

/** log10 of P(X >= k) for X ~ Binomial(n, p), exact in log space (no underflow for tiny tails). */
double binomialTailLog10(int64_t n, int64_t k, double p);

/**
 * Checks a suspect model: the owner's trigger on every carrier, each user's fingerprint, `forgeries` unissued subsets
 * (drawn with `seed`); names the user whose copy it is (tracing) by the highest user detection on every carrier.
 * The registry must be intact; the suspect may differ from the registered model (that is the point), but must take
 * the same images and classes.
 */
Expected<FingerprintReport> checkFingerprints(
    const Model &suspect, const SecretKey &registry, int forgeries = 20, uint64_t seed = 1);

/**
 * What the generic attacks (fine-tuning, pruning) observe at every step when fingerprints are checked: the owner's
 * detection rate and confidence, the users' mean detection rate and the share accepted, and (tracing) the highest
 * user's rate on every carrier and its margin to the runner-up.
 */
AttackObserver fingerprintObserver(const SecretKey &registry);

/** The fingerprint settings a generic request stands for, and back. */
Expected<FingerprintSettings> fingerprintSettings(const ParameterValues &values);
ParameterValues valuesOfSettings(const FingerprintSettings &settings);

/** User fingerprints behind the method seam (the Trace capability). */
const ProtectionMethod &fingerprintMethod();

} // namespace paramlock
