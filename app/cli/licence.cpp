// paramlock-cli licence lock|issue|rekey|check|info: SecureNet licences (core/methods/securenet); attack is in
// licenceattack.cpp.
#include "commands.h"

#include "cliutil.h"
#include "password.h"

#include "atomicfile.h"
#include "sealedkey.h"
#include "securenet.h"
#include "text.h"
#include "training.h"
#include "unlock.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <optional>
#include <random>

namespace paramlock::cli {

using nlohmann::json;

namespace {

std::vector<std::string> operator+(std::vector<std::string> a, const std::vector<std::string> &b)
{
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

/** Reads several integer flags; the first error. */
std::optional<std::string> integers(
    const QCommandLineParser &p, std::initializer_list<std::pair<const QCommandLineOption *, int64_t *>> flags)
{
    for (const auto &[option, value] : flags)
        if (auto e = integer(p, *option, *value))
            return e;
    return std::nullopt;
}

constexpr int64_t kForgeryImages = 1000;
constexpr int kForgeriesAgain = 5;

const QCommandLineOption kRegistry(QStringLiteral("registry"),
    QStringLiteral("The owner's licence registry (plain or sealed)."), QStringLiteral("FILE"));
const QCommandLineOption kLicensee(QStringLiteral("licensee"),
    QStringLiteral("A licensee and what they may see: NAME (every class), NAME:classes=0-4,7 (those classes), "
                   "NAME:coarse (groups of classes; Fashion-MNIST: tops, trousers, footwear, bags) or "
                   "NAME:coarse=0,2/1/3-9. Repeat for several licensees."),
    QStringLiteral("SPEC"));
const QCommandLineOption kForgeries(QStringLiteral("forgeries"),
    QStringLiteral("Forged licences (random secrets of the same kind) to try, each on the first 1,000 test images; "
                   "the five best are measured again on the test images after those (default 100)."),
    QStringLiteral("N"), QStringLiteral("100"));
const QCommandLineOption kOutModel(
    QStringLiteral("out-model"), QStringLiteral("Licensed model to write."), QStringLiteral("FILE"));
const QCommandLineOption kOutRegistry(
    QStringLiteral("out-registry"), QStringLiteral("The owner's registry to write."), QStringLiteral("FILE"));

/** One flag per SecureNet parameter; the settings they give with the seed. */
Expected<LicenceSettings> readSettings(const ParameterFlags &flags, const QCommandLineParser &p, uint64_t seed)
{
    auto values = flags.read(p);
    if (!values)
        return Error{values.error()};
    auto s = licenceSettings(*values);
    if (s)
        s->seed = seed;
    return s;
}

Expected<std::vector<Licensee>> licensees(const QCommandLineParser &p, int classCount)
{
    std::vector<Licensee> out;
    for (const QString &text : p.values(kLicensee)) {
        auto l = parseLicensee(text.toStdString(), classCount);
        if (!l)
            return Error{l.error()};
        out.push_back(*l);
    }
    return out;
}

/** The forged licences of the registry's kind tried on `test`; what they scored, printed and as JSON. */
struct Forgeries
{
    ForgedLicences tried;
    json toJson() const
    {
        json j{{"worst_forgery", tried.best}, {"forgery_mean", tried.mean}, {"forgery_std", tried.std},
            {"forgery_images", tried.pickedOn}};
        if (tried.freshImages > 0) {
            json again = json::array();
            for (const ForgedLicences::Candidate &c : tried.top)
                again.push_back({{"picked", c.picked}, {"fresh", c.fresh}});
            j["worst_forgery_fresh"] = tried.bestFresh();
            j["forgery_fresh_images"] = tried.freshImages;
            j["best_forgeries_again"] = again;
        }
        return j;
    }
    std::string text() const
    {
        std::string t = "best of " + std::to_string(tried.count) + " forged licences " + percentText(tried.best)
            + " (mean " + percentText(tried.mean) + ", std " + percentText(tried.std) + ") on the "
            + std::to_string(tried.pickedOn) + " test images they were tried on";
        if (tried.freshImages > 0)
            t += "; the " + std::to_string(tried.top.size()) + " best on the " + std::to_string(tried.freshImages)
                + " test images after those: at most " + percentText(tried.bestFresh());
        return t;
    }
};

/**
 * `n` forged licences of the registry's kind, each tried on the first 1,000 test images (fewer with `limit`), the five
 * best measured again on the rest of the first `limit` (0: all).
 */
Expected<Forgeries> forgedLicences(const Model &model, const LicenceSettings &settings, const Dataset &test, int64_t n,
    int64_t limit, Progress &progress)
{
    auto tried = tryForgedLicences(
        model, settings, test, n, kForgeryImages, limit, settings.seed ^ 0xf029e5ULL, kForgeriesAgain, progress);
    if (!tried)
        return Error{tried.error()};
    return Forgeries{std::move(*tried)};
}

/** The test-set measurements of every live licensee of a registry, printed and as JSON. */
Expected<json> measure(const Model &original, const Model &licensed, const SecretKey &registryKey, const Dataset &test,
    int64_t limit, int64_t forgeries, bool quiet, Progress &progress)
{
    auto registry = LicenceRegistry::of(registryKey);
    if (!registry)
        return Error{registry.error()};
    json j;
    if (original.isValid()) {
        auto a = accuracyOn(original, test, limit);
        if (!a)
            return Error{a.error()};
        j["original_accuracy"] = *a;
        if (!quiet)
            out() << "Original:                 " << QString::fromStdString(percentText(*a)) << '\n';
    }
    auto measured = measureLicensees(original, licensed, registryKey, test, limit);
    if (!measured)
        return Error{measured.error()};
    json list = json::array();
    for (const LicenseeMeasure &m : *measured) {
        const Licensee &l = m.licensee;
        const LicenceCheck &c = m.check;
        list.push_back({{"licensee", l.id}, {"scheme", l.describe()}, {"accuracy", c.licensed},
            {"answered_share", c.answeredShare}, {"unlicensed_classes_top_probability", c.unlicensedClasses}});
        if (!c.unlicensedByClass.empty())
            list.back()["unlicensed_top_probability_by_class"] = c.unlicensedByClass;
        if (m.original >= 0.0)
            list.back()["original_accuracy"] = m.original;
        if (list.size() == 1) {
            j["without_licence"] = c.withoutLicence;
            j["without_licence_top_probability"] = c.withoutTopProbability;
        }
        if (!quiet) {
            out() << "With " << QString::fromStdString(l.id + "'s licence (" + l.describe() + "):").leftJustified(19)
                  << " " << QString::fromStdString(percentText(c.licensed)) << " on the classes it answers";
            if (m.original >= 0.0)
                out() << " (the original: " << QString::fromStdString(percentText(m.original)) << ")";
            if (c.unlicensedClasses >= 0)
                out() << ", mean top probability on the others "
                      << QString::fromStdString(percentText(c.unlicensedClasses));
            out() << '\n';
        }
    }
    j["licensees"] = list;
    const LicenceSettings &settings = registry->settings;
    const std::vector<float> refusal = refusalTarget(settings, registry->classCount);
    const double refusalTop = *std::max_element(refusal.begin(), refusal.end());
    if (settings.refusalLean > 0.0) {
        j["refusal_class"] = refusalClass(settings, registry->classCount);
        j["refusal_top_probability"] = refusalTop;
    }
    if (!quiet && j.contains("without_licence"))
        out() << "Without a licence:        " << QString::fromStdString(percentText(j["without_licence"].get<double>()))
              << " (mean top probability "
              << QString::fromStdString(percentText(j["without_licence_top_probability"].get<double>()))
              << (settings.refusalLean > 0.0
                         ? ", trained toward " + QString::fromStdString(percentText(refusalTop)) + " on class "
                             + QString::number(refusalClass(settings, registry->classCount))
                         : ", uniform " + QString::fromStdString(percentText(1.0 / registry->classCount)))
              << ")\n";
    if (forgeries > 0) {
        ProgressSpan span(progress, 0.0, 1.0, {});
        auto forged = forgedLicences(licensed, registry->settings, test, forgeries, limit, span);
        if (!forged)
            return Error{forged.error()};
        j["forgeries"] = forgeries;
        j.update(forged->toJson());
        if (!quiet)
            out() << "Forged:                   " << QString::fromStdString(forged->text()) << '\n';
    }
    out().flush();
    return j;
}

/** Writes the licensed model and the registry (sealed when a password is given), never over an input. */
Expected<bool> writeOutputs(const QCommandLineParser &p, const PasswordFlags &password, const LicenceLock &lock,
    const std::vector<std::string> &inputs)
{
    const std::string modelOut = p.value(kOutModel).toStdString(), registryOut = p.value(kOutRegistry).toStdString();
    auto text = sealIfAsked(p, password, lock.registry, "owner");
    if (!text)
        return Error{text.error()};
    LockResult result;
    result.locked = lock.licensed;
    result.key = lock.registry;
    WritingScope writing;
    if (auto saved = saveLock(result, modelOut, registryOut, inputs, *text); !saved)
        return Error{saved.error()};
    return !text->empty();
}

Expected<void> checkOutputs(const QCommandLineParser &p, const std::vector<std::string> &inputs)
{
    if (!p.isSet(kOutModel) || !p.isSet(kOutRegistry))
        return Error{"--out-model and --out-registry are required"};
    for (const QCommandLineOption &o : {kOutModel, kOutRegistry})
        for (const std::string &in : inputs)
            if (samePath(p.value(o).toStdString(), in))
                return Error{"refusing to overwrite the input " + in + "; choose another output path"};
    if (samePath(p.value(kOutModel).toStdString(), p.value(kOutRegistry).toStdString()))
        return Error{"--out-model and --out-registry name the same file"};
    return {};
}

int finish(const QCommandLineParser &p, const LicenceLock &lock, json measured, bool sealed)
{
    for (const std::string &note : lock.notes)
        err() << "note: " << QString::fromStdString(note) << Qt::endl;
    if (p.isSet(kJson)) {
        measured["seconds"] = lock.seconds;
        measured["epochs"] = lock.epochs;
        measured["training_images"] = lock.images;
        measured["out_model"] = p.value(kOutModel).toStdString();
        measured["out_registry"] = p.value(kOutRegistry).toStdString();
        measured["registry_sealed"] = sealed;
        measured["notes"] = lock.notes;
        out() << QString::fromStdString(measured.dump(2)) << Qt::endl;
    } else {
        out() << "Fine-tuned " << lock.epochs << " epoch(s) on " << lock.images << " training images in "
              << QString::number(lock.seconds, 'f', 1) << " s.\nWrote " << p.value(kOutModel) << " and "
              << p.value(kOutRegistry) << (sealed ? " (password-protected)" : "") << Qt::endl;
        if (!sealed)
            err() << "warning: the registry is written without a password; anyone who reads it can issue licences "
                     "(use --password, --password-file or --password-env)"
                  << Qt::endl;
    }
    return Ok;
}

int licenceLockCommand(const QStringList &args)
{
    const ParameterFlags settings(secureNetMethod());
    const PasswordFlags password(QString(), QStringLiteral("the registry"));
    QCommandLineParser p;
    int code = Usage;
    QList<QCommandLineOption> options = {kModel, kData, kSeed, kInputMean, kInputStd, kNumClasses, kEvalSamples,
        kThreads, kQuiet, kJson, kLicensee, kForgeries, kOutModel, kOutRegistry, kKdf};
    options += settings.options;
    options += password.all();
    if (!parse(p, args,
            QStringLiteral("Licenses a model (SecureNet): fine-tunes a copy so that it answers only inputs stamped "
                           "with a licensee's licence, and writes it with the owner's registry. Issue each licensee's "
                           "licence with 'licence issue'."),
            options, code))
        return code;
    applyThreads(p);
    int64_t seed = 0, limit = 0, forgeries = 0;
    if (auto e = integers(p, {{&kSeed, &seed}, {&kEvalSamples, &limit}, {&kForgeries, &forgeries}}))
        return fail(*e, Usage);
    if (!p.isSet(kLicensee))
        return fail("name at least one licensee, e.g. --licensee alice", Usage);
    auto s = readSettings(settings, p, uint64_t(seed));
    if (!s)
        return fail(s.error(), Usage);
    const std::vector<std::string> inputs = {p.value(kModel).toStdString(), p.value(kData).toStdString()};
    if (auto ok = checkOutputs(p, inputs); !ok)
        return fail(ok.error(), Usage);
    CliProgress progress(p.isSet(kQuiet));
    auto in = openLockInputs(p, progress, code);
    if (!in)
        return code;
    auto who = licensees(p, in->model.metadata().classCount);
    if (!who)
        return fail(who.error(), Usage);
    LicenceLock lock;
    {
        ProgressScope scope(progress);
        auto made = licenceLock(in->model, in->train, *s, *who, progress);
        if (!made)
            return fail(made.error() + "; nothing was written", progress.cancelled() ? Cancelled : Failed);
        lock = std::move(*made);
    }
    auto measured =
        measure(in->model, lock.licensed, lock.registry, in->test, limit, forgeries, p.isSet(kJson), progress);
    progress.finish();
    if (!measured)
        return fail(measured.error() + "; nothing was written");
    auto sealed = writeOutputs(p, password, lock, inputs);
    if (!sealed)
        return fail(sealed.error());
    return finish(p, lock, *measured, *sealed);
}

int licenceRekeyCommand(const QStringList &args)
{
    const QCommandLineOption rekey(QStringLiteral("rekey"),
        QStringLiteral("Give this licensee a new licence (the old one stops working). Repeatable."),
        QStringLiteral("NAME"));
    const QCommandLineOption revoke(QStringLiteral("revoke"),
        QStringLiteral("Revoke this licensee's licence. Repeatable."), QStringLiteral("NAME"));
    const QCommandLineOption add(QStringLiteral("add"),
        QStringLiteral("License a new licensee (same forms as licence lock --licensee). Repeatable."),
        QStringLiteral("SPEC"));
    const QCommandLineOption epochs(QStringLiteral("rekey-epochs"),
        QStringLiteral("Fine-tuning epochs of this re-key (default: the registry's, 2 unless set at licence lock; "
                       "with --original half as many again as the first lock's, 6 for 4). More epochs silence an old "
                       "licence more surely (docs/licences.md)."),
        QStringLiteral("N"), QStringLiteral("0"));
    const QCommandLineOption oldWeight(QStringLiteral("old-weight"),
        QStringLiteral("How many times each replaced or revoked licence's refused copy counts in the fine-tuning's "
                       "loss (each other refused copy counts once). (default %1)")
            .arg(RekeyOptions().oldWeight),
        QStringLiteral("X"), QString::number(RekeyOptions().oldWeight));
    const QCommandLineOption original(QStringLiteral("original"),
        QStringLiteral("Start from the original model the licences were first trained into (the model given to "
                       "licence lock) instead of the licensed one: the first lock's cost, for models where a short "
                       "re-key does not teach the new licence (docs/findings.md)."),
        QStringLiteral("FILE"));
    const PasswordFlags owner(QString(), QStringLiteral("the registry"));
    const PasswordFlags fresh(QStringLiteral("new-"), QStringLiteral("the new registry"));
    QCommandLineParser p;
    int code = Usage;
    QList<QCommandLineOption> options = {kModel, kData, kRegistry, kInputMean, kInputStd, kNumClasses, kEvalSamples,
        kThreads, kQuiet, kJson, rekey, revoke, add, epochs, original, oldWeight, kForgeries, kOutModel, kOutRegistry,
        kKdf};
    options += owner.all();
    options += fresh.all();
    if (!parse(p, args,
            QStringLiteral("Replaces, revokes or adds licences by a short fine-tune of the licensed model: writes a "
                           "new licensed model and a new registry; every licence must then be issued again."),
            options, code))
        return code;
    applyThreads(p);
    int64_t limit = 0, forgeries = 0, epochCount = 0;
    if (auto e = integers(p, {{&kEvalSamples, &limit}, {&kForgeries, &forgeries}, {&epochs, &epochCount}}))
        return fail(*e, Usage);
    if (epochCount < 0 || epochCount > 1000)
        return fail("--rekey-epochs must be between 1 and 1000", Usage);
    RekeyOptions how;
    how.epochs = int(epochCount);
    bool weightRead = false;
    how.oldWeight = p.value(oldWeight).toDouble(&weightRead);
    if (!weightRead || !(how.oldWeight > 0.0 && how.oldWeight <= 100.0))
        return fail("--old-weight must be a number above 0 and at most 100, for example 2", Usage);
    if (!p.isSet(kRegistry))
        return fail("--registry is required", Usage);
    std::vector<std::string> inputs = {
        p.value(kModel).toStdString(), p.value(kData).toStdString(), p.value(kRegistry).toStdString()};
    if (p.isSet(original))
        inputs.push_back(p.value(original).toStdString());
    if (auto ok = checkOutputs(p, inputs); !ok)
        return fail(ok.error(), Usage);
    auto registry = openKeyFromCli(p.value(kRegistry).toStdString(), p, owner);
    if (!registry)
        return fail(registry.error());
    CliProgress progress(p.isSet(kQuiet));
    auto in = openLockInputs(p, progress, code);
    if (!in)
        return code;
    auto added = [&]() -> Expected<std::vector<Licensee>> {
        std::vector<Licensee> out;
        for (const QString &text : p.values(add)) {
            auto l = parseLicensee(text.toStdString(), in->model.metadata().classCount);
            if (!l)
                return Error{l.error()};
            out.push_back(*l);
        }
        return out;
    }();
    if (!added)
        return fail(added.error(), Usage);
    auto names = [&](const QCommandLineOption &o) {
        std::vector<std::string> out;
        for (const QString &v : p.values(o))
            out.push_back(v.toStdString());
        return out;
    };
    std::optional<Model> start;
    if (p.isSet(original)) {
        auto loaded = Model::load(p.value(original).toStdString());
        if (!loaded)
            return fail(loaded.error());
        start = std::move(*loaded);
        start->setMetadata(in->model.metadata());
    }
    LicenceLock lock;
    {
        ProgressScope scope(progress);
        how.original = start ? &*start : nullptr;
        auto made = licenceRekey(in->model, *registry, in->train, names(rekey), names(revoke), *added, progress, how);
        if (!made)
            return fail(made.error() + "; nothing was written", progress.cancelled() ? Cancelled : Failed);
        lock = std::move(*made);
    }
    auto measured = measure(
        start ? *start : Model(), lock.licensed, lock.registry, in->test, limit, forgeries, p.isSet(kJson), progress);
    progress.finish();
    if (!measured)
        return fail(measured.error() + "; nothing was written");
    // The replaced and revoked licences, on the new model.
    auto old = LicenceRegistry::of(*registry);
    json replaced = json::array();
    for (const std::string &id : names(rekey) + names(revoke)) {
        const Licensee *l = old->find(id);
        auto a = accuracyWithStamp(lock.licensed, old->patternOf(*l, in->model), in->test, limit);
        if (!a)
            return fail(a.error());
        replaced.push_back({{"licensee", id}, {"old_licence_accuracy", *a}});
        if (!p.isSet(kJson))
            out() << "Old licence of " << QString::fromStdString(id) << ": " << QString::fromStdString(percentText(*a))
                  << Qt::endl;
    }
    (*measured)["old_licences"] = replaced;
    (*measured)["old_weight"] = how.oldWeight;
    (*measured)["from_original"] = start.has_value();
    auto sealed = writeOutputs(p, fresh, lock, inputs);
    if (!sealed)
        return fail(sealed.error());
    return finish(p, lock, *measured, *sealed);
}

int licenceIssueCommand(const QStringList &args)
{
    const QCommandLineOption outFile({QStringLiteral("o"), QStringLiteral("out")},
        QStringLiteral("The licence file to write."), QStringLiteral("FILE"));
    const PasswordFlags owner(QString(), QStringLiteral("the registry"));
    const PasswordFlags theirs(QStringLiteral("licensee-"), QStringLiteral("the licensee's licence"));
    QCommandLineParser p;
    int code = Usage;
    if (!parse(p, args,
            QStringLiteral("Issues one licensee's licence from the owner's registry, password-protected when a "
                           "licensee password is given."),
            QList<QCommandLineOption>{kRegistry, kLicensee, outFile, kKdf, kJson} + owner.all() + theirs.all(), code))
        return code;
    if (!p.isSet(kRegistry) || !p.isSet(kLicensee) || !p.isSet(outFile))
        return fail("--registry, --licensee and --out are required", Usage);
    const std::string outPath = p.value(outFile).toStdString();
    if (samePath(outPath, p.value(kRegistry).toStdString()))
        return fail("refusing to overwrite the registry; choose another --out", Usage);
    auto strength = KdfStrength::named(p.value(kKdf).toStdString());
    if (!strength)
        return fail(strength.error(), Usage);
    auto registry = openKeyFromCli(p.value(kRegistry).toStdString(), p, owner);
    if (!registry)
        return fail(registry.error());
    auto licence = issueLicence(*registry, p.value(kLicensee).toStdString());
    if (!licence)
        return fail(licence.error());
    std::string text = licence->toJson();
    const bool sealing = theirs.given(p);
    if (sealing) {
        auto password = theirs.read(p, true);
        if (!password)
            return fail(password.error(), Usage);
        auto sealed = sealKey(*licence, *password, p.value(kLicensee).toStdString(), *strength);
        wipe(*password);
        if (!sealed)
            return fail(sealed.error());
        text = std::move(*sealed);
    } else if (!p.isSet(kJson)) {
        err() << "warning: the licence is written without a password (use --licensee-password, "
                 "--licensee-password-file or --licensee-password-env)"
              << Qt::endl;
    }
    if (auto saved = writeFileAtomically(outPath, text, {p.value(kRegistry).toStdString()}); !saved)
        return fail(saved.error());
    if (p.isSet(kJson))
        out() << QString::fromStdString(
            json{{"licence", outPath}, {"licensee", p.value(kLicensee).toStdString()}, {"sealed", sealing}}.dump(2))
              << Qt::endl;
    else
        out() << "Issued " << QString::fromStdString(outPath) << " to " << p.value(kLicensee) << Qt::endl;
    return Ok;
}

int licenceCheckCommand(const QStringList &args)
{
    const QCommandLineOption licenceFile(
        QStringLiteral("licence"), QStringLiteral("A licence or the owner's registry."), QStringLiteral("FILE"));
    const QCommandLineOption originalFile(QStringLiteral("original"),
        QStringLiteral("The model before licensing (checked by its fingerprint): each licence is shown beside it, "
                       "scored the same way (its classes, its groups)."),
        QStringLiteral("FILE"));
    const PasswordFlags password(QString(), QStringLiteral("the licence"));
    QCommandLineParser p;
    int code = Usage;
    if (!parse(p, args,
            QStringLiteral("Measures a licensed model on the test set: with the licence (or every licence of a "
                           "registry), without one, and with forged ones."),
            QList<QCommandLineOption>{kModel, kData, licenceFile, originalFile, kInputMean, kInputStd, kNumClasses,
                kEvalSamples, kForgeries, kThreads, kQuiet, kJson}
                + password.all(),
            code))
        return code;
    applyThreads(p);
    int64_t limit = 0, forgeries = 0;
    if (auto e = integers(p, {{&kEvalSamples, &limit}, {&kForgeries, &forgeries}}))
        return fail(*e, Usage);
    if (!p.isSet(licenceFile))
        return fail("--licence is required", Usage);
    auto key = openKeyFromCli(p.value(licenceFile).toStdString(), p, password);
    if (!key)
        return fail(key.error());
    CliProgress progress(p.isSet(kQuiet));
    auto model = openModel(p);
    if (!model)
        return fail(model.error());
    auto test = openData(p, Split::Test, progress);
    if (!test)
        return fail(test.error());
    if (auto ok = completeMetadata(*model, p, &*test); !ok)
        return fail(ok.error(), Usage);
    if (auto fits = checkLicenceFits(*model, *key); !fits)
        return fail(p.value(licenceFile).toStdString() + ": " + fits.error());
    Model original;
    if (p.isSet(originalFile)) {
        auto loaded = Model::load(p.value(originalFile).toStdString());
        if (!loaded)
            return fail(loaded.error());
        if (loaded->fingerprint() != key->originalFingerprint)
            return fail(p.value(originalFile).toStdString()
                + " is not the model these licences were trained from; give the model licence lock started from");
        loaded->setMetadata(model->metadata());
        original = std::move(*loaded);
    }
    Expected<json> measured = Error{""};
    if (key->mode == "registry") {
        measured = measure(original, *model, *key, *test, limit, forgeries, p.isSet(kJson), progress);
    } else {
        auto licence = Licence::of(*key);
        if (!licence)
            return fail(licence.error());
        auto c = checkLicence(*model, *licence, *test, limit);
        if (!c)
            return fail(c.error());
        ProgressSpan span(progress, 0.0, 1.0, {});
        auto forged = forgedLicences(*model, licence->settings, *test, forgeries, limit, span);
        if (!forged)
            return fail(forged.error());
        json j{{"licensee", licence->licensee.id}, {"scheme", licence->licensee.describe()}, {"accuracy", c->licensed},
            {"unlicensed_classes_top_probability", c->unlicensedClasses}, {"without_licence", c->withoutLicence},
            {"forgeries", forgeries}};
        if (!c->unlicensedByClass.empty())
            j["unlicensed_top_probability_by_class"] = c->unlicensedByClass;
        std::optional<double> before;
        if (original.isValid()) {
            auto scored = schemeAccuracies(original, {licence->licensee}, *test, limit);
            if (!scored)
                return fail(scored.error());
            before = scored->front();
            j["original_accuracy"] = *before;
        }
        j.update(forged->toJson());
        measured = j;
        if (!p.isSet(kJson))
            out() << "With the licence: " << QString::fromStdString(percentText(c->licensed))
                  << (before ? " (the original: " + QString::fromStdString(percentText(*before)) + ")" : QString())
                  << "\nWithout:          " << QString::fromStdString(percentText(c->withoutLicence))
                  << "\nForged:           " << QString::fromStdString(forged->text()) << Qt::endl;
    }
    progress.finish();
    if (!measured)
        return fail(measured.error());
    if (p.isSet(kJson))
        out() << QString::fromStdString(measured->dump(2)) << Qt::endl;
    return Ok;
}

/** Where a licensee's pattern comes from, in words. */
std::string patternOrigin(const Licensee &l)
{
    return l.learned.empty() ? "drawn from the secret" : "learnt in training";
}

int licenceInfoCommand(const QStringList &args)
{
    const PasswordFlags password(QString(), QStringLiteral("the file"));
    QCommandLineParser p;
    int code = Usage;
    p.addPositionalArgument(QStringLiteral("FILE"), QStringLiteral("A licence or registry."));
    if (!parse(p, args, QStringLiteral("Describes a licence or the owner's registry."),
            QList<QCommandLineOption>{kJson} + password.all(), code, true))
        return code;
    if (p.positionalArguments().size() != 1)
        return fail("name one licence or registry file", Usage);
    const std::string path = p.positionalArguments().front().toStdString();
    auto key = openKeyFromCli(path, p, password);
    if (!key)
        return fail(key.error());
    json j{{"file", path}, {"kind", key->mode}, {"model_fingerprint", key->lockedFingerprint},
        {"original_fingerprint", key->originalFingerprint}, {"created_at", key->createdAt}};
    LicenceSettings settings;
    json people = json::array();
    if (key->mode == "registry") {
        auto r = LicenceRegistry::of(*key);
        if (!r)
            return fail(path + ": " + r.error());
        settings = r->settings;
        for (const Licensee &l : r->licensees)
            people.push_back({{"licensee", l.id}, {"scheme", l.describe()}, {"generation", l.generation},
                {"revoked", l.revoked}, {"pattern", patternOrigin(l)}});
    } else {
        auto l = Licence::of(*key);
        if (!l)
            return fail(path + ": " + l.error());
        settings = l->settings;
        people.push_back({{"licensee", l->licensee.id}, {"scheme", l->licensee.describe()},
            {"generation", l->licensee.generation}, {"revoked", false}, {"pattern", patternOrigin(l->licensee)}});
    }
    j["pattern"] = settings.kind == "noise" ? "noise ±" + std::to_string(settings.amplitude)
                                            : "patch " + std::to_string(settings.patchSize) + " px";
    j["licensees"] = people;
    if (p.isSet(kJson)) {
        out() << QString::fromStdString(j.dump(2)) << Qt::endl;
        return Ok;
    }
    out() << QString::fromStdString(path) << ": SecureNet " << QString::fromStdString(key->mode) << " for model "
          << QString::fromStdString(key->lockedFingerprint.substr(0, 16)) << "…, pattern "
          << QString::fromStdString(j["pattern"].get<std::string>()) << '\n';
    for (const json &l : people)
        out() << "  " << QString::fromStdString(l["licensee"].get<std::string>()) << ": "
              << QString::fromStdString(l["scheme"].get<std::string>())
              << (l["revoked"].get<bool>() ? " (revoked)" : "") << ", pattern "
              << QString::fromStdString(l["pattern"].get<std::string>()) << '\n';
    out().flush();
    return Ok;
}

} // namespace

int cmdLicence(const QStringList &args)
{
    return runSubcommand(QStringLiteral("licence"), args,
        {{"lock", licenceLockCommand}, {"issue", licenceIssueCommand}, {"rekey", licenceRekeyCommand},
            {"check", licenceCheckCommand}, {"attack", licenceAttackCommand}, {"info", licenceInfoCommand}},
        QStringLiteral(
            "Usage: paramlock-cli licence lock|issue|rekey|check|attack|info [options]\n"
            "  lock   fine-tune a copy of a model so that it answers only licensed inputs; writes the owner's "
            "registry\n"
            "  issue  write one licensee's licence from the registry\n"
            "  rekey  replace, revoke or add licences by a short fine-tune\n"
            "  check  measure a licensed model with, without and with forged licences\n"
            "  attack search a pattern of one's own with k labelled images (the adaptive attack)\n"
            "  info   describe a licence or registry\n"
            "Run 'paramlock-cli licence ACTION --help' for its options; 'paramlock-cli run --licence FILE' classifies "
            "images with a licence.\n"));
}

} // namespace paramlock::cli
