#include "commands.h"

#include "cliutil.h"
#include "password.h"

#include "atomicfile.h"
#include "training.h"
#include "unlock.h"

#include <nlohmann/json.hpp>

#include <chrono>

namespace paramlock::cli {

using nlohmann::json;

int cmdUnlock(const QStringList &args)
{
    const QCommandLineOption outFile({QStringLiteral("o"), QStringLiteral("out")},
        QStringLiteral("Unlocked model to write."), QStringLiteral("FILE"));
    const PasswordFlags password;
    QCommandLineParser p;
    int code = Usage;
    if (!parse(p, args, QStringLiteral("Restores the original model from a locked model and its key (bit for bit)."),
            QList<QCommandLineOption>{
                kModel, kKey, outFile, kData, kInputMean, kInputStd, kNumClasses, kEvalSamples, kThreads, kQuiet, kJson}
                + password.all(),
            code))
        return code;
    applyThreads(p);
    if (!p.isSet(kKey) || !p.isSet(outFile))
        return fail("--model, --key and --out are required", Usage);
    int64_t evalLimit = 0;
    if (auto e = integer(p, kEvalSamples, evalLimit))
        return fail(*e, Usage);
    const std::string outPath = p.value(outFile).toStdString();
    const std::vector<std::string> inputs = {p.value(kModel).toStdString(), p.value(kKey).toStdString()};
    for (const auto &in : inputs)
        if (samePath(outPath, in))
            return fail("refusing to overwrite the input file " + in + "; choose another output path", Usage);
    auto model = openModel(p);
    if (!model)
        return fail(model.error());
    auto key = openKeyFromCli(p.value(kKey).toStdString(), p, password);
    if (!key)
        return fail(key.error());
    const auto start = std::chrono::steady_clock::now();
    // The model was just read from the file: unlocking it in place spares a copy of every weight.
    if (auto unlocked = unlockInPlace(*model, *key); !unlocked)
        return fail(unlocked.error() + "; nothing was written");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    Model &restored = *model;
    double accuracy = -1.0;
    if (p.isSet(kData)) {
        CliProgress progress(p.isSet(kQuiet));
        auto test = openData(p, Split::Test, progress);
        if (!test)
            return fail(test.error());
        if (auto ok = completeMetadata(restored, p, &*test); !ok)
            return fail(ok.error(), Usage);
        EvaluationOptions eval;
        eval.limit = evalLimit;
        ProgressScope scope(progress);
        auto result = evaluate(restored, *test, eval, &progress);
        progress.finish();
        if (!result)
            return fail(result.error());
        accuracy = result->accuracy;
    }
    if (auto saved = restored.save(outPath, inputs); !saved)
        return fail(saved.error());
    const bool match = restored.fingerprint() == key->originalFingerprint;
    if (p.isSet(kJson)) {
        json j = {{"fingerprint_match", match}, {"fingerprint", restored.fingerprint()},
            {"n_entries", key->secretCount}, {"seconds", seconds}, {"out", outPath}};
        j["accuracy"] = accuracy >= 0.0 ? json(accuracy) : json(nullptr);
        out() << QString::fromStdString(j.dump(2)) << Qt::endl;
    } else {
        out() << "Unlocked " << key->secretCount << " weights; fingerprint "
              << (match ? "matches the original" : "DOES NOT match") << "\n";
        if (accuracy >= 0.0)
            out() << "Accuracy:          " << percentString(accuracy) << "\n";
        out() << "Wrote " << QString::fromStdString(outPath) << Qt::endl;
    }
    return match ? Ok : Failed;
}

} // namespace paramlock::cli
