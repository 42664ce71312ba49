#pragma once

// The seam every protection method plugs into, in the spirit of Tiled's MapFormat: a method says what it can do
// (its capabilities), declares its parameters once, owns its key payload and its analyses, and implements what its
// capabilities promise. Front ends ask the registry (methods(), methodById()) and never name a method.

#include "analysis.h"
#include "dataset.h"
#include "expected.h"
#include "lockresult.h"
#include "model.h"
#include "parameters.h"
#include "progress.h"
#include "secretkey.h"

#include <cstdint>
#include <string>
#include <vector>

namespace paramlock {

/** What a method can do. */
enum class Capability : unsigned {
    Lock = 1, ///< protect a model and restore it with a key
    Trace = 2, ///< identify a model's owner or user
    Licence = 4, ///< make the model answer only inputs that carry a licence (nothing is restored)
};

/** What a lock is asked for: the user's parameter values (the rest at their defaults) and the secret seed. */
struct LockRequest
{
    ParameterValues values;
    uint64_t seed = 0;
};

/** A setting of a method worth comparing with other locks (the frontier), and its label: "strong mode". */
struct LabelledRequest
{
    std::string label;
    LockRequest request;
};

/** How the live chart of a lock is drawn: what its y axis is and where the method's threshold lies. */
struct LockChartSpec
{
    std::string title = "Loss on the encryption set";
    std::string xLabel = "iteration";
    std::string yLabel = "cross-entropy loss";
    double threshold = -1.0; ///< a horizontal line (e.g. T_loss), or -1
    std::string thresholdLabel;
    /** Where the steps carry an accuracy worth plotting beside the loss (on a second axis): its name. */
    std::string accuracyLabel;
};

/** Where an unlock's time goes, for the benchmark. */
struct UnlockTiming
{
    double checkSeconds = 0.0; ///< fingerprint of the locked model and the key's entries
    double copySeconds = 0.0; ///< the private copy of the weights (0 in place)
    double applySeconds = 0.0; ///< restoring the weights
    double verifySeconds = 0.0; ///< fingerprint of the result against the original's
};

/** Whether a key fits a model, and why not. */
struct KeyFit
{
    enum class State { Fits, AlreadyUnlocked, OtherModel, BadEntries };
    State state = State::OtherModel;
    std::string message;
    std::string modelFingerprint;
    bool fits() const { return state == State::Fits; }
};

class ProtectionMethod
{
public:
    virtual ~ProtectionMethod() = default;

    /** The id in key files and on the command line ("--method ID"). */
    virtual std::string id() const = 0;
    /** The name users read. */
    virtual std::string name() const = 0;
    /** One sentence: what it does to a model. */
    virtual std::string summary() const = 0;
    /** The paper it implements, for the report. */
    virtual std::string citation() const = 0;
    virtual unsigned capabilities() const = 0;
    bool can(Capability c) const { return (capabilities() & unsigned(c)) != 0; }

    /** Every parameter, declared once: the CLI flags, the GUI form, the report and the key come from it. */
    virtual const std::vector<ParameterSpec> &parameters() const = 0;
    /** The mode that a set of values selects; empty for a method without modes. */
    virtual std::string modeOf(const ParameterValues &values) const
    {
        (void)values;
        return {};
    }
    /** A mode's own defaults, where they differ between modes (a form re-applies them when the mode changes). */
    virtual ParameterValues modeDefaults(const std::string &mode) const
    {
        (void)mode;
        return {};
    }
    /** Checks a request before anything runs; the message names the flag. */
    virtual Expected<void> validate(const LockRequest &request) const = 0;
    /** Whether the method can lock this model with this request (e.g. the named layers exist). */
    virtual Expected<void> checkModel(const Model &model, const LockRequest &request) const = 0;

    // ---- Lock -------------------------------------------------------------------------------------------------

    /** The training images the lock works with (AdvParams: the encryption set), drawn reproducibly by seed. */
    virtual Expected<std::vector<int64_t>> drawSample(const Dataset &train, const LockRequest &request) const = 0;
    /**
     * Locks `model` with `sample`. In place (`inPlace`), `model`'s own weights are locked and the result shares them;
     * otherwise a copy is, and `model` is untouched. Cancelling or failing leaves `model` as it was. The key is
     * verified to restore the original bit for bit before it is returned.
     */
    virtual Expected<LockResult> lock(
        Model &model, bool inPlace, const Dataset &sample, const LockRequest &request, Progress &progress) const = 0;
    /** Whether `key` (this method's) fits `model`. */
    virtual KeyFit checkKey(const Model &model, const SecretKey &key) const = 0;
    /** Restores the original in place after checkKey() said yes; on any failure the model is left locked. */
    virtual Expected<void> restore(Model &model, const SecretKey &key, UnlockTiming &timing) const = 0;
    /** The settings a key was made with, as the request that reproduces the lock. */
    virtual Expected<LockRequest> requestOf(const SecretKey &key) const = 0;
    /**
     * The settings of this method a model owner chooses between, for the frontier that compares every lock on one
     * model (e.g. a mode each, or how many layers); by default the method's defaults alone.
     */
    virtual std::vector<LabelledRequest> frontierRequests(const Model &model) const
    {
        (void)model;
        return {{"defaults", {}}};
    }
    /** The live chart's axes and threshold for a request. */
    virtual LockChartSpec lockChart(const LockRequest &request) const
    {
        (void)request;
        return {};
    }

    // ---- analyses ---------------------------------------------------------------------------------------------

    /** The analyses only this method has (the generic attacks run on every Lock method). */
    virtual std::vector<AnalysisSpec> analyses() const { return {}; }
    virtual Expected<Analysis> runAnalysis(
        const std::string &kind, const AnalysisContext &context, Progress &progress) const
    {
        (void)context;
        (void)progress;
        return Error{"the method " + name() + " has no analysis \"" + kind + "\""};
    }

    /**
     * The repair an attacker who knows this method would try with a few labelled images (AdvParams: its adaptive
     * attack), which the advantage analysis tries beside fine-tuning; empty when the method has none.
     */
    virtual std::string repairName() const { return {}; }
    /**
     * Runs that repair on `locked` with the attacker's `images`; the accuracy it reaches on `test`. `passBudget`, when
     * positive, bounds each of its variants to about that many single-image forward-backward passes (the advantage
     * analysis gives it one training run's worth); 0: the method's own defaults.
     */
    virtual Expected<double> repair(const Model &locked, const Dataset &images, const Dataset &test, int64_t evalLimit,
        int64_t passBudget, Progress &progress) const
    {
        (void)locked;
        (void)images;
        (void)test;
        (void)evalLimit;
        (void)passBudget;
        (void)progress;
        return Error{"the method " + name() + " has no repair attack"};
    }

    // ---- keys -------------------------------------------------------------------------------------------------

    /** Checks a key's payload (what the envelope's checksum cannot: the method's own invariants). */
    virtual Expected<void> checkPayload(const SecretKey &key) const = 0;
};

/** Every registered method, in the order front ends list them. */
const std::vector<const ProtectionMethod *> &methods();
/** The method with this id, or nullptr. */
const ProtectionMethod *methodById(const std::string &id);
/** The method a new lock uses when none is named. */
const ProtectionMethod &defaultMethod();
/** The ids of the methods that can do `capability`, comma-separated: for messages. */
std::string methodIds(Capability capability);

} // namespace paramlock
