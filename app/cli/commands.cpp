#include "commands.h"

#include "benchcommand.h"
#include "cliutil.h"
#include "keycommands.h"

#include "advparams.h"
#include "analysis.h"
#include "attacks.h"
#include "experiments.h"
#include "atomicfile.h"
#include "dataset.h"
#include "model.h"
#include "report.h"
#include "resources.h"
#include "sealedkey.h"
#include "training.h"
#include "version.h"

#include <nlohmann/json.hpp>

#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>
#include <QTextStream>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <functional>
#include <map>
#include <unistd.h>

namespace paramlock::cli {

namespace {

using nlohmann::json;

// ---- info ------------------------------------------------------------------------

int cmdInfo(const QStringList &args)
{
    QCommandLineParser p;
    int code = Usage;
    if (!parse(p, args,
            QStringLiteral("Lists a model's conv/FC layers with shapes, parameter counts and weight ranges."),
            {kModel, kJson}, code))
        return code;
    auto model = openModel(p);
    if (!model)
        return fail(model.error());
    const auto layers = model->layers();
    const ModelMetadata &m = model->metadata();
    if (p.isSet(kJson)) {
        json j;
        j["model"] = p.value(kModel).toStdString();
        j["format"] = model->isTorchScript() ? "torchscript" : "zoo";
        j["architecture"] = m.architecture;
        j["n_params"] = model->parameterCount();
        j["fingerprint"] = model->fingerprint();
        j["input_shape"] = {m.channels, m.height, m.width};
        j["num_classes"] = m.classCount;
        j["mean"] = m.normalization.mean;
        j["std"] = m.normalization.std;
        json list = json::array();
        for (const auto &l : layers)
            list.push_back({{"name", l.name}, {"kind", l.kind}, {"shape", l.shape}, {"count", l.count}, {"min", l.min},
                {"max", l.max}, {"mean", l.mean}, {"std", l.std}});
        j["layers"] = list;
        if (!m.trainingRecord.empty())
            j["training"] = json::parse(m.trainingRecord, nullptr, false);
        out() << QString::fromStdString(j.dump(2)) << Qt::endl;
        return Ok;
    }
    out() << "Model:        " << p.value(kModel) << "\n"
          << "Format:       " << (model->isTorchScript() ? "TorchScript" : "ParamLock zoo checkpoint") << " ("
          << QString::fromStdString(m.architecture) << ")\n"
          << "Parameters:   " << model->parameterCount() << "\n"
          << "Conv/FC:      " << layers.size() << " layers\n"
          << "Input:        "
          << (m.hasInputShape() ? QStringLiteral("%1x%2x%3").arg(m.channels).arg(m.height).arg(m.width)
                                : QStringLiteral("unknown (pass --data when locking)"))
          << ", " << (m.classCount ? QString::number(m.classCount) : QStringLiteral("unknown")) << " classes\n"
          << "Fingerprint:  " << QString::fromStdString(model->fingerprint()) << "\n\n";
    out() << QStringLiteral("%1  %2  %3  %4  %5  %6  %7  %8\n")
                 .arg(QStringLiteral("#"), 3)
                 .arg(QStringLiteral("layer"), -28)
                 .arg(QStringLiteral("kind"), -6)
                 .arg(QStringLiteral("shape"), -16)
                 .arg(QStringLiteral("params"), 9)
                 .arg(QStringLiteral("min"), 10)
                 .arg(QStringLiteral("max"), 10)
                 .arg(QStringLiteral("std"), 9);
    int i = 0;
    for (const auto &l : layers) {
        QStringList shape;
        for (auto s : l.shape)
            shape << QString::number(s);
        out() << QStringLiteral("%1  %2  %3  %4  %5  %6  %7  %8\n")
                     .arg(i++, 3)
                     .arg(QString::fromStdString(l.name), -28)
                     .arg(QString::fromStdString(l.kind), -6)
                     .arg(shape.join(QLatin1Char('x')), -16)
                     .arg(l.count, 9)
                     .arg(double(l.min), 10, 'f', 5)
                     .arg(double(l.max), 10, 'f', 5)
                     .arg(l.std, 9, 'f', 5);
    }
    return Ok;
}

// ---- train -----------------------------------------------------------------------

int cmdTrain(const QStringList &args)
{
    const QCommandLineOption arch(QStringLiteral("arch"),
        QStringLiteral("Zoo architecture: lenet5, densenet-fmnist, resnet56, alexnet-gtsrb, linear."),
        QStringLiteral("NAME"));
    const QCommandLineOption outFile(
        {QStringLiteral("o"), QStringLiteral("out")}, QStringLiteral("Checkpoint to write."), QStringLiteral("FILE"));
    const QCommandLineOption epochs(
        QStringLiteral("epochs"), QStringLiteral("Epochs (default: the paper's recipe)."), QStringLiteral("N"));
    const QCommandLineOption lr(
        QStringLiteral("lr"), QStringLiteral("Learning rate (default: the paper's recipe)."), QStringLiteral("X"));
    const QCommandLineOption batch(
        QStringLiteral("batch-size"), QStringLiteral("Batch size (default 128)."), QStringLiteral("N"));
    const QCommandLineOption optimizer(QStringLiteral("optimizer"),
        QStringLiteral("sgd or adam (default: the paper's recipe)."), QStringLiteral("NAME"));
    const QCommandLineOption limit(
        QStringLiteral("limit"), QStringLiteral("Train on the first N samples only."), QStringLiteral("N"));
    QCommandLineParser p;
    int code = Usage;
    if (!parse(p, args, QStringLiteral("Trains a zoo model with the AdvParams paper's recipe and writes a checkpoint."),
            {arch, kData, outFile, epochs, lr, batch, optimizer, limit, kSeed, kThreads, kQuiet, kJson}, code))
        return code;
    applyThreads(p);
    if (!p.isSet(arch) || !p.isSet(outFile))
        return fail("--arch, --data and --out are required", Usage);
    const std::string architecture = p.value(arch).toStdString();
    TrainOptions options = TrainOptions::paperRecipe(architecture);
    int64_t value = 0;
    double real = 0.0;
    for (auto *o : {&epochs, &batch, &limit, &kSeed})
        if (auto e = integer(p, *o, value))
            return fail(*e, Usage);
    if (p.isSet(epochs))
        options.epochs = int(p.value(epochs).toLongLong());
    if (p.isSet(batch))
        options.batchSize = int(p.value(batch).toLongLong());
    if (p.isSet(limit))
        options.limit = p.value(limit).toLongLong();
    options.seed = p.value(kSeed).toULongLong();
    if (auto e = number(p, lr, real))
        return fail(*e, Usage);
    if (p.isSet(lr))
        options.learningRate = real;
    if (p.isSet(optimizer))
        options.optimizer = p.value(optimizer).toStdString();

    CliProgress progress(p.isSet(kQuiet));
    auto trainSet = openData(p, Split::Train, progress);
    if (!trainSet)
        return fail(trainSet.error());
    auto testSet = openData(p, Split::Test, progress);
    if (!testSet)
        return fail(testSet.error());
    ModelMetadata meta;
    meta.dataset = trainSet->name;
    meta.channels = trainSet->channels;
    meta.height = trainSet->height;
    meta.width = trainSet->width;
    meta.classCount = trainSet->classCount;
    meta.classNames = trainSet->classNames;
    meta.normalization = trainSet->normalization;
    auto model = Model::create(architecture, meta, options.seed);
    if (!model)
        return fail(model.error());
    if (!p.isSet(kQuiet))
        err() << "Training " << QString::fromStdString(architecture) << " (" << model->parameterCount()
              << " parameters) on " << trainSet->size() << " images, " << options.epochs << " epochs, " << threadCount()
              << " threads" << Qt::endl;
    ProgressScope scope(progress);
    auto report = train(*model, *trainSet, &*testSet, options, progress);
    progress.finish();
    if (!report)
        return fail(report.error() + "; nothing was written", progress.cancelled() ? Cancelled : Failed);
    const double accuracy = report->epochs.back().testAccuracy;
    json record = {{"command", args.join(QLatin1Char(' ')).toStdString()}, {"architecture", architecture},
        {"dataset", trainSet->name}, {"epochs", options.epochs}, {"optimizer", options.optimizer},
        {"learning_rate", options.learningRate}, {"batch_size", options.batchSize}, {"seed", options.seed},
        {"test_accuracy", accuracy}, {"seconds", report->seconds}, {"paramlock", PARAMLOCK_VERSION}};
    meta.trainingRecord = record.dump();
    model->setMetadata(meta);
    if (auto saved = model->save(p.value(outFile).toStdString()); !saved)
        return fail(saved.error());
    if (p.isSet(kJson)) {
        json epochsJson = json::array();
        for (const auto &e : report->epochs)
            epochsJson.push_back({{"epoch", e.epoch}, {"train_loss", e.trainLoss}, {"train_accuracy", e.trainAccuracy},
                {"test_accuracy", e.testAccuracy}, {"seconds", e.seconds}});
        record["history"] = epochsJson;
        out() << QString::fromStdString(record.dump(2)) << Qt::endl;
    } else {
        for (const auto &e : report->epochs)
            out() << "epoch " << e.epoch << ": loss " << QString::number(e.trainLoss, 'f', 4) << ", train "
                  << percent(e.trainAccuracy) << ", test " << percent(e.testAccuracy) << ", "
                  << QString::number(e.seconds, 'f', 1) << " s\n";
        out() << "Wrote " << p.value(outFile) << " (test accuracy " << percent(accuracy) << ")" << Qt::endl;
    }
    return Ok;
}

// ---- evaluate --------------------------------------------------------------------

int cmdEvaluate(const QStringList &args)
{
    QCommandLineParser p;
    int code = Usage;
    if (!parse(p, args, QStringLiteral("Measures a model's accuracy on a dataset's test split."),
            {kModel, kData, kInputMean, kInputStd, kNumClasses, kEvalSamples, kThreads, kQuiet, kJson}, code))
        return code;
    applyThreads(p);
    int64_t limit = 0;
    if (auto e = integer(p, kEvalSamples, limit))
        return fail(*e, Usage);
    auto model = openModel(p);
    if (!model)
        return fail(model.error());
    CliProgress progress(p.isSet(kQuiet));
    auto test = openData(p, Split::Test, progress);
    if (!test)
        return fail(test.error());
    if (auto ok = completeMetadata(*model, p, &*test); !ok)
        return fail(ok.error(), Usage);
    ProgressScope scope(progress);
    EvaluationOptions options;
    options.limit = limit;
    auto eval = evaluate(*model, *test, options, &progress);
    progress.finish();
    if (!eval)
        return fail(eval.error());
    if (p.isSet(kJson))
        out() << QString::fromStdString(json{{"accuracy", eval->accuracy}, {"correct", eval->correct},
            {"total", eval->total}, {"mean_loss", eval->meanLoss},
            {"seconds", eval->seconds}}.dump(2))
              << Qt::endl;
    else
        out() << "Accuracy: " << percent(eval->accuracy) << " (" << eval->correct << " of " << eval->total << ")"
              << Qt::endl;
    return Ok;
}

// ---- lock ------------------------------------------------------------------------

struct LockFlags
{
    QCommandLineOption outModel{
        QStringLiteral("out-model"), QStringLiteral("Locked model to write."), QStringLiteral("FILE")};
    QCommandLineOption outKey{
        QStringLiteral("out-key"), QStringLiteral("Secret key to write (JSON)."), QStringLiteral("FILE")};
    QCommandLineOption mode{QStringLiteral("mode"),
        QStringLiteral("strong (ParamLock's lock, the default) or paper (AdvParams Algorithm 1 as published)."),
        QStringLiteral("MODE"), QStringLiteral("strong")};
    QCommandLineOption allLayers{
        QStringLiteral("all-layers"), QStringLiteral("Encrypt among all conv/FC layers (the strong mode's default).")};
    QCommandLineOption maxWeights{QStringLiteral("max-weights"),
        QStringLiteral("Strong mode: change at most N weights (default min(64, 0.01% of the parameters))."),
        QStringLiteral("N"), QStringLiteral("0")};
    QCommandLineOption targetAccuracy{QStringLiteral("target-accuracy"),
        QStringLiteral("Strong mode: stop once the encryption-set accuracy is at most X (default: 0.8 x random guess, "
                       "a margin for the images the lock never saw)."),
        QStringLiteral("X"), QStringLiteral("0")};
    QCommandLineOption candidates{QStringLiteral("candidates"),
        QStringLiteral("Strong mode: the seed picks each weight among the N best candidates (default 8)."),
        QStringLiteral("N"), QStringLiteral("8")};
    QCommandLineOption noLookahead{QStringLiteral("no-lookahead"),
        QStringLiteral("Strong mode: draw by the first-order gain alone, without measuring each candidate's real "
                       "gain (faster per step, more weights).")};
    QCommandLineOption layers{QStringLiteral("layers"),
        QStringLiteral("Layers to encrypt, comma-separated (names from 'info')."), QStringLiteral("LIST")};
    QCommandLineOption randomLayers{QStringLiteral("random-layers"),
        QStringLiteral(
            "Encrypt K conv/FC layers drawn with the seed (paper mode's default: 6, the paper's Fashion-MNIST "
            "setting)."),
        QStringLiteral("K")};
    QCommandLineOption samples{QStringLiteral("samples"),
        QStringLiteral("Encryption-set size N, drawn from the training split (default 300)."), QStringLiteral("N"),
        QStringLiteral("300")};
    QCommandLineOption balanced{
        QStringLiteral("class-balanced"), QStringLiteral("Draw the encryption set evenly from every class.")};
    QCommandLineOption theta{QStringLiteral("theta"),
        QStringLiteral("Step factor: each step moves a weight by theta x its layer's range (default 0.07)."),
        QStringLiteral("X"), QStringLiteral("0.07")};
    QCommandLineOption alpha{QStringLiteral("alpha"),
        QStringLiteral("Clip margin: weights stay alpha x range inside the layer's min/max (default 0.05)."),
        QStringLiteral("X"), QStringLiteral("0.05")};
    QCommandLineOption tLoss{QStringLiteral("t-loss"),
        QStringLiteral("Stop once the encryption-set loss exceeds this (default 15)."), QStringLiteral("X"),
        QStringLiteral("15")};
    QCommandLineOption maxIter{QStringLiteral("max-iter"), QStringLiteral("Iteration budget I per layer (default 18)."),
        QStringLiteral("N"), QStringLiteral("18")};
    QCommandLineOption batch{QStringLiteral("batch-size"),
        QStringLiteral("Encryption-set chunk size for forward/backward (default 50; recorded in the key)."),
        QStringLiteral("N"), QStringLiteral("50")};

    QList<QCommandLineOption> all() const
    {
        return {outModel, outKey, mode, layers, randomLayers, allLayers, samples, balanced, theta, alpha, tLoss,
            maxIter, maxWeights, targetAccuracy, candidates, noLookahead, batch};
    }

    std::optional<std::string> read(const QCommandLineParser &p, LockOptions &o) const
    {
        LockSettings &s = o.settings;
        s.mode = p.value(mode).toStdString();
        int64_t v = 0;
        for (auto *opt : {&samples, &maxIter, &batch, &kSeed, &maxWeights, &candidates})
            if (auto e = integer(p, *opt, v))
                return e;
        s.maxWeights = p.value(maxWeights).toLongLong();
        s.candidates = int(p.value(candidates).toLongLong());
        s.samples = p.value(samples).toLongLong();
        s.maxIterations = int(p.value(maxIter).toLongLong());
        o.batchSize = int(p.value(batch).toLongLong());
        s.seed = p.value(kSeed).toULongLong();
        s.classBalanced = p.isSet(balanced);
        s.lookahead = !p.isSet(noLookahead);
        for (auto [opt, target] : {std::pair{&theta, &s.theta}, {&alpha, &s.alpha}, {&tLoss, &s.lossThreshold},
                 {&targetAccuracy, &s.targetAccuracy}}) {
            bool ok = false;
            *target = p.value(*opt).toDouble(&ok);
            if (!ok)
                return "--" + opt->names().first().toStdString() + " expects a number";
        }
        if (int(p.isSet(layers)) + int(p.isSet(randomLayers)) + int(p.isSet(allLayers)) > 1)
            return std::string("give one of --layers, --random-layers and --all-layers");
        if (p.isSet(layers)) {
            for (const QString &l : p.value(layers).split(QLatin1Char(','), Qt::SkipEmptyParts))
                s.layers.push_back(l.trimmed().toStdString());
            if (s.layers.empty())
                return std::string("--layers is empty: name at least one conv/FC layer");
        } else if (p.isSet(randomLayers)) {
            if (!toInt64(p.value(randomLayers), v) || v < 1)
                return std::string("--random-layers expects a whole number >= 1");
            s.randomLayers = int(v);
        } else if (p.isSet(allLayers) || s.mode == "strong") {
            s.allLayers = true;
        } else {
            s.randomLayers = 6;
        }
        if (s.samples < 1)
            return std::string("--samples must be at least 1");
        if (o.batchSize < 1)
            return std::string("--batch-size must be at least 1");
        return std::nullopt;
    }
};

json lockJson(const LockResult &r, const Model &model)
{
    return {{"mode", r.key.settings.mode}, {"n_encrypted", r.encryptedCount()},
        {"encryption_set_accuracy", r.finalAccuracy}, {"n_params", model.parameterCount()},
        {"proportion", double(r.encryptedCount()) / double(model.parameterCount())}, {"iterations", r.iterations},
        {"initial_loss", r.initialLoss}, {"final_loss", r.finalLoss}, {"reached_threshold", r.reachedThreshold},
        {"seconds", r.seconds}, {"layers", r.key.settings.layers}, {"notes", r.notes}, {"threads", threadCount()}};
}

QString describeSettings(const LockSettings &s)
{
    if (s.mode == "strong")
        return QStringLiteral("Strong mode (ParamLock's lock): N=%1, alpha=%2, at most %3 weights, seed %4; "
                              "the paper's Algorithm 1: --mode paper")
            .arg(s.samples)
            .arg(s.alpha)
            .arg(s.maxWeights > 0 ? QString::number(s.maxWeights) : QStringLiteral("min(64, 0.01% of the parameters)"))
            .arg(s.seed);
    return QStringLiteral("Paper mode (AdvParams Algorithm 1): N=%1, I=%2, T_loss=%3, theta=%4, alpha=%5, %6, seed %7")
        .arg(s.samples)
        .arg(s.maxIterations)
        .arg(s.lossThreshold)
        .arg(s.theta)
        .arg(s.alpha)
        .arg(s.layers.empty() && s.randomLayers > 0 ? QStringLiteral("%1 random layers").arg(s.randomLayers)
                                                    : QStringLiteral("chosen layers"))
        .arg(s.seed);
}

void printLockSummary(const LockResult &r, const Model &model)
{
    const bool strong = r.key.settings.mode == "strong";
    const QString stop = strong
        ? QStringLiteral(", encryption-set accuracy %1").arg(percent(r.finalAccuracy))
        : (r.reachedThreshold ? QStringLiteral(", T_loss reached") : QStringLiteral(", T_loss not reached"));
    out() << "Mode:              " << QString::fromStdString(r.key.settings.mode) << "\n"
          << "Encrypted layers:  " << joined(r.key.settings.layers) << "\n"
          << "Iterations:        " << r.iterations << " (loss " << QString::number(r.initialLoss, 'f', 3) << " -> "
          << QString::number(r.finalLoss, 'f', 3) << stop << ")\n"
          << "Encrypted weights: " << r.encryptedCount() << " of " << model.parameterCount() << " ("
          << QString::number(100.0 * double(r.encryptedCount()) / double(model.parameterCount()), 'f', 5) << "%)\n"
          << "Lock time:         " << QString::number(r.seconds, 'f', 2) << " s\n";
    for (const auto &n : r.notes)
        out() << "Note:              " << QString::fromStdString(n) << "\n";
}

struct LockRun
{
    Model model;
    Dataset test;
    LockResult result;
    double accuracyBefore = -1.0;
    double accuracyAfter = -1.0;
};

/**
 * Shared by lock and demo: sample D_e, evaluate, lock, evaluate. `inPlace` locks `model`'s own weights (for
 * callers that no longer need the original) instead of a copy.
 */
Expected<LockRun> runLock(Model model, const Dataset &train, Dataset test, const LockOptions &options,
    int64_t evalLimit, CliProgress &progress, bool inPlace = false)
{
    auto drawn = drawEncryptionSet(train, options.settings);
    if (!drawn)
        return Error{drawn.error()};
    const Dataset &encryptionSet = *drawn;
    LockRun run{model, std::move(test), {}, -1.0, -1.0};
    EvaluationOptions eval;
    eval.limit = evalLimit;
    ProgressScope scope(progress);
    auto before = evaluate(run.model, run.test, eval, &progress);
    progress.finish();
    if (!before)
        return Error{before.error()};
    run.accuracyBefore = before->accuracy;
    auto locked = inPlace ? lockModelInPlace(run.model, encryptionSet, options, progress)
                          : lockModel(run.model, encryptionSet, options, progress);
    progress.finish();
    if (!locked)
        return Error{locked.error()};
    run.result = std::move(*locked);
    auto after = evaluate(run.result.locked, run.test, eval, &progress);
    progress.finish();
    if (!after)
        return Error{after.error()};
    run.accuracyAfter = after->accuracy;
    return run;
}

int cmdLock(const QStringList &args)
{
    LockFlags flags;
    const PasswordFlags password;
    const QCommandLineOption recipient(QStringLiteral("recipient"),
        QStringLiteral("Name of whom the password-protected key is for (shown by 'key info')."),
        QStringLiteral("NAME"));
    const QCommandLineOption kdf(QStringLiteral("kdf"),
        QStringLiteral("Password stretching: interactive, moderate (default) or sensitive."), QStringLiteral("LEVEL"),
        QStringLiteral("moderate"));
    QCommandLineParser p;
    int code = Usage;
    QList<QCommandLineOption> options = {kModel, kData, kSeed, kInputMean, kInputStd, kNumClasses, kEvalSamples,
        kThreads, kQuiet, kJson, recipient, kdf};
    options += flags.all();
    options += password.all();
    if (!parse(p, args, QStringLiteral("Locks a model with AdvParams: writes the locked model and the secret key."),
            options, code))
        return code;
    applyThreads(p);
    if (!p.isSet(flags.outModel) || !p.isSet(flags.outKey))
        return fail("--out-model and --out-key are required", Usage);
    LockOptions lockOptions;
    if (auto e = flags.read(p, lockOptions))
        return fail(*e, Usage);
    int64_t evalLimit = 0;
    if (auto e = integer(p, kEvalSamples, evalLimit))
        return fail(*e, Usage);
    const std::string modelPath = p.value(kModel).toStdString();
    const std::string outModel = p.value(flags.outModel).toStdString();
    const std::string outKey = p.value(flags.outKey).toStdString();
    if (samePath(outModel, outKey))
        return fail("--out-model and --out-key name the same file", Usage);
    for (const auto &o : {outModel, outKey})
        if (samePath(o, modelPath))
            return fail("refusing to overwrite the input model " + modelPath + "; choose another output path", Usage);
    auto strength = KdfStrength::named(p.value(kdf).toStdString());
    if (!strength)
        return fail(strength.error(), Usage);
    std::string keyPassword;
    if (password.given(p)) {
        auto read = password.read(p, true);
        if (!read)
            return fail(read.error(), Usage);
        keyPassword = std::move(*read);
    } else if (!p.isSet(kJson)) {
        err() << "warning: the key is written without a password; anyone who reads " << QString::fromStdString(outKey)
              << " can unlock the model (use --password, --password-file or --password-env)" << Qt::endl;
    }

    CliProgress progress(p.isSet(kQuiet));
    auto inputs = openLockInputs(p, progress, code);
    if (!inputs)
        return code;
    auto &[model, train, test] = *inputs;

    // The model read from the file is locked itself: no second copy of the weights (the file stays as it was).
    auto run = runLock(model, train, std::move(test), lockOptions, evalLimit, progress, true);
    if (!run)
        return fail(run.error() + "; nothing was written", progress.cancelled() ? Cancelled : Failed);
    const std::vector<std::string> inputFiles = {modelPath, p.value(kData).toStdString()};
    std::string keyText;
    if (!keyPassword.empty()) {
        auto sealed = sealKey(run->result.key, keyPassword, p.value(recipient).toStdString(), *strength);
        wipe(keyPassword);
        if (!sealed)
            return fail(sealed.error() + "; nothing was written");
        keyText = std::move(*sealed);
    }
    WritingScope writing;
    if (auto saved = saveLock(run->result, outModel, outKey, inputFiles, keyText); !saved)
        return fail(saved.error());

    if (p.isSet(kJson)) {
        json j = lockJson(run->result, run->result.locked);
        j["accuracy_before"] = run->accuracyBefore;
        j["accuracy_after"] = run->accuracyAfter;
        j["out_model"] = outModel;
        j["out_key"] = outKey;
        j["key_sealed"] = !keyText.empty();
        out() << QString::fromStdString(j.dump(2)) << Qt::endl;
    } else {
        printLockSummary(run->result, run->result.locked);
        out() << "Accuracy before:   " << percent(run->accuracyBefore) << "\n"
              << "Accuracy locked:   " << percent(run->accuracyAfter) << "\n"
              << "Wrote " << QString::fromStdString(outModel) << " and " << QString::fromStdString(outKey)
              << " (keep the key secret)" << Qt::endl;
    }
    return Ok;
}

// ---- unlock / verify ----------------------------------------------------------------

const QCommandLineOption kKey(
    {QStringLiteral("k"), QStringLiteral("key")}, QStringLiteral("Secret key file."), QStringLiteral("FILE"));

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
            {"n_entries", key->entries.size()}, {"seconds", seconds}, {"out", outPath}};
        j["accuracy"] = accuracy >= 0.0 ? json(accuracy) : json(nullptr);
        out() << QString::fromStdString(j.dump(2)) << Qt::endl;
    } else {
        out() << "Unlocked " << key->entries.size() << " weights; fingerprint "
              << (match ? "matches the original" : "DOES NOT match") << "\n";
        if (accuracy >= 0.0)
            out() << "Accuracy:          " << percent(accuracy) << "\n";
        out() << "Wrote " << QString::fromStdString(outPath) << Qt::endl;
    }
    return match ? Ok : Failed;
}

int cmdVerify(const QStringList &args)
{
    const PasswordFlags password;
    QCommandLineParser p;
    int code = Usage;
    if (!parse(p, args, QStringLiteral("Tells whether a key fits a model (exit 0) or why not (exit 1)."),
            QList<QCommandLineOption>{kModel, kKey, kJson} + password.all(), code))
        return code;
    if (!p.isSet(kKey))
        return fail("--model and --key are required", Usage);
    auto model = openModel(p);
    if (!model)
        return fail(model.error());
    auto key = openKeyFromCli(p.value(kKey).toStdString(), p, password);
    if (!key)
        return fail(key.error());
    const KeyFit fit = checkKey(*model, *key);
    static const std::map<KeyFit::State, const char *> names = {{KeyFit::State::Fits, "fits"},
        {KeyFit::State::AlreadyUnlocked, "already-unlocked"}, {KeyFit::State::OtherModel, "other-model"},
        {KeyFit::State::BadEntries, "bad-entries"}};
    if (p.isSet(kJson))
        out() << QString::fromStdString(json{{"fits", fit.fits()}, {"state", names.at(fit.state)},
            {"message", fit.message}, {"model_fingerprint", fit.modelFingerprint},
            {"key_locked_fingerprint", key->lockedFingerprint}, {"key_original_fingerprint", key->originalFingerprint},
            {"n_entries",
                key->entries.size()}}.dump(2))
              << Qt::endl;
    else
        out() << QString::fromStdString(fit.message) << Qt::endl;
    return fit.fits() ? Ok : Failed;
}

// ---- report ------------------------------------------------------------------------

int cmdReport(const QStringList &args)
{
    LockFlags flags;
    const QCommandLineOption outFile({QStringLiteral("o"), QStringLiteral("out")},
        QStringLiteral("The HTML report to write (a PDF of it is written beside it)."), QStringLiteral("FILE"));
    const QCommandLineOption pdfFile(QStringLiteral("pdf"),
        QStringLiteral("Where to write the PDF (default: the HTML's name with .pdf)."), QStringLiteral("FILE"));
    const QCommandLineOption analyses(QStringLiteral("analyses"),
        QStringLiteral("Comma-separated: finetune, prune, clip, adaptive, detect, t-loss, layers, n-e (default: "
                       "finetune,prune,clip,adaptive,detect,n-e)."),
        QStringLiteral("LIST"), QStringLiteral("finetune,prune,clip,adaptive,detect,n-e"));
    const QCommandLineOption epochs(QStringLiteral("epochs"),
        QStringLiteral("Fine-tuning attack epochs (default 10; the paper: 100)."), QStringLiteral("N"),
        QStringLiteral("10"));
    QCommandLineParser p;
    int code = Usage;
    QList<QCommandLineOption> options = {kModel, kData, kSeed, kInputMean, kInputStd, kNumClasses, kEvalSamples,
        kThreads, kQuiet, outFile, pdfFile, analyses, epochs};
    options += flags.all();
    if (!parse(p, args,
            QStringLiteral("Locks a model in memory, runs the attacks and experiments on the lock and writes one "
                           "self-contained HTML report and a PDF of it: accuracies, settings, fingerprints, the "
                           "paper's figures, attack curves and tables. No model or key is written."),
            options, code))
        return code;
    applyThreads(p);
    if (!p.isSet(outFile))
        return fail("--out is required (the HTML report to write)", Usage);
    LockOptions lockOptions;
    if (auto e = flags.read(p, lockOptions))
        return fail(*e, Usage);
    int64_t evalLimit = 0, epochCount = 10;
    if (auto e = integer(p, kEvalSamples, evalLimit))
        return fail(*e, Usage);
    if (auto e = integer(p, epochs, epochCount))
        return fail(*e, Usage);
    std::vector<std::string> kinds;
    const std::vector<std::string> known = analysisKinds();
    for (const QString &k : p.value(analyses).split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        if (std::find(known.begin(), known.end(), k.trimmed().toStdString()) == known.end())
            return fail("unknown analysis \"" + k.toStdString() + "\" in --analyses", Usage);
        kinds.push_back(k.trimmed().toStdString());
    }
    const QString html = p.value(outFile);
    QString pdf = p.value(pdfFile);
    if (pdf.isEmpty()) {
        pdf = html;
        pdf.replace(
            QRegularExpression(QStringLiteral("\\.html?$"), QRegularExpression::CaseInsensitiveOption), QString());
        pdf += QStringLiteral(".pdf");
    }
    const QString modelPath = p.isSet(kModel) ? p.value(kModel) : QString::fromStdString(demoModelPath());
    for (const QString &o : {html, pdf})
        if (samePath(o.toStdString(), modelPath.toStdString()))
            return fail("refusing to overwrite the input model; choose another --out", Usage);
    if (lockOptions.settings.mode == "strong" && !p.isSet(flags.maxWeights) && !p.isSet(kModel))
        lockOptions.settings.maxWeights = 32; // as the demo: LeNet-5's 0.01% is 6 weights
    auto model = Model::load(modelPath.toStdString());
    if (!model)
        return fail(model.error());
    CliProgress progress(p.isSet(kQuiet));
    const std::string dataPath = p.isSet(kData) ? p.value(kData).toStdString() : std::string("fashion-mnist");
    progress.advance(0.0, "reading " + dataPath);
    auto train = loadDataset(dataPath, Split::Train);
    auto test = train ? loadDataset(dataPath, Split::Test) : Expected<Dataset>(Error{train.error()});
    progress.finish();
    if (!test)
        return fail(test.error());
    if (auto ok = completeMetadata(*model, p, &*train); !ok)
        return fail(ok.error(), Usage);
    auto run = runLock(*model, *train, *test, lockOptions, evalLimit, progress);
    if (!run)
        return fail(run.error(), progress.cancelled() ? Cancelled : Failed);

    ReportData data;
    data.modelName = QFileInfo(modelPath).fileName();
    data.datasetName = QString::fromStdString(test->name);
    data.original = &*model;
    data.lock = &run->result;
    data.accuracyBefore = run->accuracyBefore;
    data.accuracyAfter = run->accuracyAfter;
    data.accuracyUnlocked = run->accuracyBefore; // verified bit for bit by the lock itself
    data.testSamples = evalLimit > 0 ? std::min<int64_t>(evalLimit, test->size()) : test->size();
    auto drawn = drawEncryptionSet(*train, lockOptions.settings);
    if (!drawn)
        return fail(drawn.error());
    const Dataset &encryptionSet = *drawn;
    AnalysisContext context;
    context.original = &*model;
    context.lock = &run->result;
    context.encryptionSet = &encryptionSet;
    context.test = &*test;
    context.options = lockOptions;
    context.evalLimit = evalLimit;
    context.fineTuneEpochs = int(epochCount);
    context.seed = lockOptions.settings.seed;
    ProgressScope scope(progress);
    for (const std::string &kind : kinds) {
        if (!p.isSet(kQuiet))
            err() << "Running: " << QString::fromStdString(analysisName(kind)) << Qt::endl;
        auto analysis = runAnalysis(kind, context, progress);
        progress.finish();
        if (!analysis)
            return fail(analysis.error() + "; no report was written", progress.cancelled() ? Cancelled : Failed);
        data.analyses.push_back(std::move(*analysis));
    }
    if (auto written = writeReport(data, html, pdf); !written)
        return fail(written.error());
    out() << "Locked " << percent(run->accuracyBefore) << " -> " << percent(run->accuracyAfter) << " with "
          << run->result.encryptedCount() << " weights; wrote " << html << " and " << pdf << Qt::endl;
    return Ok;
}

// ---- demo --------------------------------------------------------------------------

int cmdDemo(const QStringList &args)
{
    LockFlags flags;
    const QCommandLineOption outDir(QStringLiteral("out-dir"),
        QStringLiteral("Folder for the locked model and key (default: paramlock-demo)."), QStringLiteral("DIR"),
        QStringLiteral("paramlock-demo"));
    QCommandLineParser p;
    int code = Usage;
    QList<QCommandLineOption> options = {kModel, kData, kSeed, kEvalSamples, kThreads, kQuiet, kJson, outDir};
    options += flags.all();
    if (!parse(p, args,
            QStringLiteral("Locks the shipped LeNet-5 on real Fashion-MNIST (strong mode by default; --mode paper for "
                           "the paper's Algorithm 1 with its Fashion-MNIST settings), then unlocks it."),
            options, code))
        return code;
    applyThreads(p);
    LockOptions lockOptions;
    if (auto e = flags.read(p, lockOptions))
        return fail(*e, Usage);
    // LeNet-5 is small: 0.01% of its 61,706 weights is 6, which cannot make it useless
    // (measured: 63% accuracy left). The demo allows 32 unless told otherwise.
    if (lockOptions.settings.mode == "strong" && !p.isSet(flags.maxWeights) && !p.isSet(kModel))
        lockOptions.settings.maxWeights = 32;
    int64_t evalLimit = 0;
    if (auto e = integer(p, kEvalSamples, evalLimit))
        return fail(*e, Usage);
    const QString modelPath = p.isSet(kModel) ? p.value(kModel) : QString::fromStdString(demoModelPath());
    if (modelPath.isEmpty())
        return fail("the shipped demo model (models/lenet5-fmnist.pt) was not found; set PARAMLOCK_RESOURCES");
    const std::string dataPath = p.isSet(kData) ? p.value(kData).toStdString() : std::string("fashion-mnist");

    const bool quiet = p.isSet(kQuiet);
    if (!quiet && !p.isSet(kJson))
        out() << "ParamLock demo: locking " << modelPath << " on " << QString::fromStdString(dataPath) << "\n"
              << describeSettings(lockOptions.settings) << "\n"
              << Qt::endl;
    auto model = Model::load(modelPath.toStdString());
    if (!model)
        return fail(model.error());
    CliProgress progress(quiet);
    progress.advance(0.0, "reading " + dataPath);
    auto train = loadDataset(dataPath, Split::Train);
    if (!train)
        return fail(train.error());
    auto test = loadDataset(dataPath, Split::Test);
    progress.finish();
    if (!test)
        return fail(test.error());
    auto run = runLock(*model, *train, std::move(*test), lockOptions, evalLimit, progress);
    if (!run)
        return fail(run.error(), progress.cancelled() ? Cancelled : Failed);
    auto restored = unlockModel(run->result.locked, run->result.key);
    if (!restored)
        return fail(restored.error());
    EvaluationOptions eval;
    eval.limit = evalLimit;
    auto unlocked = evaluate(*restored, run->test, eval, &progress);
    progress.finish();
    if (!unlocked)
        return fail(unlocked.error());
    const bool match = restored->fingerprint() == run->result.key.originalFingerprint
        && restored->fingerprint() == model->fingerprint();

    const QDir dir(p.value(outDir));
    if (!dir.exists() && !QDir().mkpath(dir.path()))
        return fail("cannot create the output folder " + dir.path().toStdString());
    const std::string lockedPath = dir.filePath(QStringLiteral("locked-model.pt")).toStdString();
    const std::string keyPath = dir.filePath(QStringLiteral("secret-key.json")).toStdString();
    const std::vector<std::string> inputs = {modelPath.toStdString()};
    WritingScope writing;
    if (auto saved = saveLock(run->result, lockedPath, keyPath, inputs); !saved)
        return fail(saved.error());

    if (p.isSet(kJson)) {
        json j = lockJson(run->result, run->result.locked);
        j["accuracy_before"] = run->accuracyBefore;
        j["accuracy_after"] = run->accuracyAfter;
        j["accuracy_unlocked"] = unlocked->accuracy;
        j["fingerprint_match"] = match;
        j["test_samples"] = unlocked->total;
        j["out_model"] = lockedPath;
        j["out_key"] = keyPath;
        out() << QString::fromStdString(j.dump(2)) << Qt::endl;
    } else {
        printLockSummary(run->result, run->result.locked);
        out() << "\nTest accuracy on " << unlocked->total << " Fashion-MNIST test images:\n"
              << "  original model   " << percent(run->accuracyBefore) << "\n"
              << "  locked model     " << percent(run->accuracyAfter)
              << "   (random guess: " << percent(1.0 / double(std::max(1, run->test.classCount))) << ")\n"
              << "  unlocked model   " << percent(unlocked->accuracy) << "   (fingerprint "
              << (match ? "matches the original bit for bit" : "DOES NOT match") << ")\n\n"
              << "Wrote " << QString::fromStdString(lockedPath) << " and " << QString::fromStdString(keyPath)
              << Qt::endl;
    }
    return match ? Ok : Failed;
}

// ---- attack -------------------------------------------------------------------------

Expected<std::vector<double>> numberList(const QString &text, const char *flag)
{
    std::vector<double> values;
    for (const QString &part : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        bool ok = false;
        values.push_back(part.trimmed().toDouble(&ok));
        if (!ok)
            return Error{
                std::string("--") + flag + " expects comma-separated numbers, got \"" + text.toStdString() + "\""};
    }
    if (values.empty())
        return Error{std::string("--") + flag + " is empty"};
    return values;
}

json curveJson(const AttackCurve &c)
{
    json points = json::array();
    for (const auto &p : c.points)
        points.push_back({{"x", p.x}, {"accuracy", p.accuracy}});
    return {{"attack", c.attack}, {"x_label", c.xLabel}, {"points", points}, {"seconds", c.seconds}};
}

void printCurve(const AttackCurve &c, bool csv)
{
    if (csv) {
        out() << "attack,x,accuracy\n";
        for (const auto &p : c.points)
            out() << QString::fromStdString(c.attack) << ',' << p.x << ',' << p.accuracy << '\n';
        out().flush();
        return;
    }
    out() << QString::fromStdString(c.attack) << " (" << QString::fromStdString(c.xLabel) << "):\n";
    for (const auto &p : c.points)
        out() << "  " << QString::number(p.x, 'g', 4).rightJustified(8) << "  " << percent(p.accuracy) << "\n";
    out() << "  (" << QString::number(c.seconds, 'f', 1) << " s)" << Qt::endl;
}

int cmdAttack(const QStringList &args)
{
    const QCommandLineOption kind(QStringLiteral("kind"),
        QStringLiteral("finetune (Table III), prune (Table IV), adaptive (Table V), clip (norm clipping) or detect "
                       "(can the changed weights be found?)."),
        QStringLiteral("KIND"));
    const QCommandLineOption variant(QStringLiteral("variant"),
        QStringLiteral("Adaptive attack: paper (re-run the selection, subtract Eq. 3), global (joint over all "
                       "layers) or swap (undo the strong mode's swaps). Default paper."),
        QStringLiteral("NAME"), QStringLiteral("paper"));
    const QCommandLineOption fraction(QStringLiteral("fraction"),
        QStringLiteral("Share of the test set the attacker holds (default 0.1); the rest judges it."),
        QStringLiteral("X"), QStringLiteral("0.1"));
    const QCommandLineOption epochs(QStringLiteral("epochs"), QStringLiteral("Fine-tuning epochs (default 100)."),
        QStringLiteral("N"), QStringLiteral("100"));
    const QCommandLineOption every(QStringLiteral("report-every"),
        QStringLiteral("Report fine-tuning accuracy every N epochs (default 10; epoch 1 always)."), QStringLiteral("N"),
        QStringLiteral("10"));
    const QCommandLineOption lr(QStringLiteral("lr"), QStringLiteral("Fine-tuning learning rate (default 0.01)."),
        QStringLiteral("X"), QStringLiteral("0.01"));
    const QCommandLineOption optimizer(QStringLiteral("optimizer"),
        QStringLiteral("Fine-tuning optimiser: sgd (momentum 0.9, the default) or adam."), QStringLiteral("NAME"),
        QStringLiteral("sgd"));
    const QCommandLineOption batch(QStringLiteral("batch-size"), QStringLiteral("Fine-tuning batch size (default 64)."),
        QStringLiteral("N"), QStringLiteral("64"));
    const QCommandLineOption rates(QStringLiteral("rates"), QStringLiteral("Pruning rates (default 0,0.1,...,0.9)."),
        QStringLiteral("LIST"), QStringLiteral("0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9"));
    const QCommandLineOption layerwise(
        QStringLiteral("per-layer"), QStringLiteral("Prune each layer by the rate instead of one global threshold."));
    const QCommandLineOption percentiles(QStringLiteral("percentiles"),
        QStringLiteral("Norm clipping: percentiles clipped at each end (default 0,0.5,1,2,5)."), QStringLiteral("LIST"),
        QStringLiteral("0,0.5,1,2,5"));
    const QCommandLineOption iterations(QStringLiteral("iterations"),
        QStringLiteral("Adaptive attack: steps per layer (default 18)."), QStringLiteral("N"), QStringLiteral("18"));
    const QCommandLineOption budget(QStringLiteral("budget"),
        QStringLiteral("Adaptive swap attack: weights it may change (default 64)."), QStringLiteral("N"),
        QStringLiteral("64"));
    const PasswordFlags keyPassword;
    QCommandLineParser p;
    int code = Usage;
    if (!parse(p, args,
            QStringLiteral("Attacks a locked model as someone without the key would, and reports the accuracy it gets "
                           "back (the key, if given, only scores which secret weights an attack found)."),
            QList<QCommandLineOption>{kModel, kKey, kData, kind, variant, fraction, epochs, every, lr, optimizer, batch,
                rates, layerwise, percentiles, iterations, budget, kSeed, kInputMean, kInputStd, kNumClasses,
                kEvalSamples, kThreads, kQuiet, kJson, kCsv}
                + keyPassword.all(),
            code))
        return code;
    applyThreads(p);
    const QString what = p.value(kind);
    if (!QStringList{QStringLiteral("finetune"), QStringLiteral("prune"), QStringLiteral("adaptive"),
            QStringLiteral("clip"), QStringLiteral("detect")}
             .contains(what))
        return fail("--kind must be finetune, prune, adaptive, clip or detect", Usage);
    int64_t evalLimit = 0, epochCount = 0, everyN = 0, batchSize = 0, iterationCount = 0, budgetCount = 0;
    for (auto [opt, target] : {std::pair{&kEvalSamples, &evalLimit}, {&epochs, &epochCount}, {&every, &everyN},
             {&batch, &batchSize}, {&iterations, &iterationCount}, {&budget, &budgetCount}})
        if (auto e = integer(p, *opt, *target))
            return fail(*e, Usage);
    double share = 0.0, rate = 0.0;
    if (auto e = number(p, fraction, share))
        return fail(*e, Usage);
    if (!p.isSet(fraction))
        share = 0.1;
    if (auto e = number(p, lr, rate))
        return fail(*e, Usage);
    if (!p.isSet(lr))
        rate = 0.01;

    auto model = openModel(p);
    if (!model)
        return fail(model.error());
    std::optional<SecretKey> key;
    if (p.isSet(kKey)) {
        auto loaded = openKeyFromCli(p.value(kKey).toStdString(), p, keyPassword);
        if (!loaded)
            return fail(loaded.error());
        key = *loaded;
    }
    if (what == QLatin1String("detect")) {
        if (!key)
            return fail("--kind detect needs the --key (it scores where the secret weights are)", Usage);
        auto layers = detectionAnalysis(*model, *key);
        if (!layers)
            return fail(layers.error());
        json list = json::array();
        if (p.isSet(kCsv))
            out() << "layer,secret,zscore_hits,filter_hits,mean_change,std_change,std\n";
        for (const auto &d : *layers) {
            if (p.isSet(kCsv))
                out() << QString::fromStdString(d.layer) << ',' << d.secretCount << ',' << d.zScoreHits << ','
                      << d.filterHits << ',' << d.meanChange << ',' << d.stdChange << ',' << d.std << '\n';
            list.push_back({{"layer", d.layer}, {"secret", d.secretCount}, {"zscore_hits", d.zScoreHits},
                {"filter_hits", d.filterHits}, {"mean_change", d.meanChange}, {"std_change", d.stdChange},
                {"std", d.std}});
            if (!p.isSet(kJson) && !p.isSet(kCsv))
                out() << QString::fromStdString(d.layer) << ": " << d.secretCount << " secret weights; top-"
                      << d.secretCount << " by |z| finds " << d.zScoreHits << ", by |z| within the filter "
                      << d.filterHits << "; mean change " << QString::number(d.meanChange / d.std * 100.0, 'f', 4)
                      << "% of std, std change " << QString::number(d.stdChange / d.std * 100.0, 'f', 4) << "%\n";
        }
        if (p.isSet(kJson))
            out() << QString::fromStdString(json{{"attack", "detect"}, {"layers", list}}.dump(2)) << Qt::endl;
        return Ok;
    }

    CliProgress progress(p.isSet(kQuiet));
    auto test = openData(p, Split::Test, progress);
    if (!test)
        return fail(test.error());
    if (auto ok = completeMetadata(*model, p, &*test); !ok)
        return fail(ok.error(), Usage);
    const uint64_t seed = p.value(kSeed).toULongLong();
    ProgressScope scope(progress);
    json result;
    if (what == QLatin1String("finetune") || what == QLatin1String("adaptive")) {
        if (!(share > 0.0 && share < 1.0))
            return fail("--fraction must lie between 0 and 1", Usage);
        const AttackerSplit split = splitForAttacker(*test, share, seed);
        if (what == QLatin1String("finetune")) {
            FineTuneOptions o;
            o.epochs = int(epochCount);
            o.reportAt = {1};
            for (int e = int(std::max<int64_t>(1, everyN)); e <= o.epochs; e += int(std::max<int64_t>(1, everyN)))
                o.reportAt.push_back(e);
            o.learningRate = rate;
            o.optimizer = p.value(optimizer).toStdString();
            o.batchSize = int(batchSize);
            o.seed = seed;
            auto curve = fineTuneAttack(*model, split, o, progress, evalLimit);
            progress.finish();
            if (!curve)
                return fail(curve.error(), progress.cancelled() ? Cancelled : Failed);
            result = curveJson(*curve);
            result["optimizer"] = o.optimizer;
            result["learning_rate"] = o.learningRate;
            result["batch_size"] = o.batchSize;
            result["attacker_samples"] = split.attacker.size();
            result["holdout_samples"] = split.holdout.size();
            if (!p.isSet(kJson))
                printCurve(*curve, p.isSet(kCsv));
        } else {
            AdaptiveOptions o;
            o.variant = p.value(variant).toStdString();
            o.iterations = int(iterationCount);
            o.budget = budgetCount;
            auto r = adaptiveAttack(*model, split, o, key ? &*key : nullptr, progress, evalLimit);
            progress.finish();
            if (!r)
                return fail(r.error(), progress.cancelled() ? Cancelled : Failed);
            result = {{"attack", "adaptive"}, {"variant", r->variant}, {"accuracy_before", r->accuracyBefore},
                {"accuracy_after", r->accuracyAfter}, {"weights_changed", r->weightsChanged},
                {"secret_hits", r->secretHits}, {"secret_positions", r->secretPositions}, {"seconds", r->seconds}};
            if (p.isSet(kCsv))
                out() << "attack,variant,accuracy_before,accuracy_after,weights_changed,secret_hits,secret_positions\n"
                      << "adaptive," << QString::fromStdString(r->variant) << ',' << r->accuracyBefore << ','
                      << r->accuracyAfter << ',' << r->weightsChanged << ',' << r->secretHits << ','
                      << r->secretPositions << Qt::endl;
            else if (!p.isSet(kJson))
                out() << "adaptive attack (" << QString::fromStdString(r->variant)
                      << "): " << percent(r->accuracyBefore) << " -> " << percent(r->accuracyAfter) << ", "
                      << r->weightsChanged << " weights changed"
                      << (r->secretHits >= 0 ? QStringLiteral(", %1 of %2 secret positions hit")
                                                   .arg(r->secretHits)
                                                   .arg(r->secretPositions)
                                             : QString())
                      << Qt::endl;
        }
    } else {
        auto list = numberList(p.value(what == QLatin1String("prune") ? rates : percentiles),
            what == QLatin1String("prune") ? "rates" : "percentiles");
        if (!list)
            return fail(list.error(), Usage);
        auto curve = what == QLatin1String("prune")
            ? pruningAttack(*model, *test, *list, !p.isSet(layerwise), progress, evalLimit)
            : normClipAttack(*model, *test, *list, progress, evalLimit);
        progress.finish();
        if (!curve)
            return fail(curve.error(), progress.cancelled() ? Cancelled : Failed);
        result = curveJson(*curve);
        if (!p.isSet(kJson))
            printCurve(*curve, p.isSet(kCsv));
    }
    if (p.isSet(kJson))
        out() << QString::fromStdString(result.dump(2)) << Qt::endl;
    return Ok;
}

// ---- experiment ----------------------------------------------------------------------

int cmdExperiment(const QStringList &args)
{
    LockFlags flags;
    const QCommandLineOption kind(QStringLiteral("kind"),
        QStringLiteral("t-loss (Fig. 5, paper mode), layers (Fig. 6: one layer locked at a time) or n-e (Fig. 7)."),
        QStringLiteral("KIND"));
    const QCommandLineOption thresholds(QStringLiteral("thresholds"),
        QStringLiteral("T_loss values for --kind t-loss (default 1,2,...,15)."), QStringLiteral("LIST"),
        QStringLiteral("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15"));
    const QCommandLineOption counts(QStringLiteral("counts"),
        QStringLiteral("Encrypted-weight counts for --kind n-e (default 0,2,4,...,64)."), QStringLiteral("LIST"));
    QCommandLineParser p;
    int code = Usage;
    QList<QCommandLineOption> options = {kModel, kData, kSeed, kInputMean, kInputStd, kNumClasses, kEvalSamples,
        kThreads, kQuiet, kJson, kCsv, kind, thresholds, counts};
    for (const auto &o : flags.all())
        if (o.names() != flags.outModel.names() && o.names() != flags.outKey.names())
            options << o;
    if (!parse(p, args,
            QStringLiteral("Runs the paper's experiments on a model: accuracy against T_loss, per locked layer, or "
                           "against the number of encrypted weights."),
            options, code))
        return code;
    applyThreads(p);
    const QString what = p.value(kind);
    if (what != QLatin1String("t-loss") && what != QLatin1String("layers") && what != QLatin1String("n-e"))
        return fail("--kind must be t-loss, layers or n-e", Usage);
    LockOptions lockOptions;
    if (auto e = flags.read(p, lockOptions))
        return fail(*e, Usage);
    if (what == QLatin1String("t-loss") && !p.isSet(flags.mode)) {
        // Fig. 5 is about the paper's threshold: paper mode, with its default layer choice.
        lockOptions.settings.mode = "paper";
        if (!p.isSet(flags.layers) && !p.isSet(flags.randomLayers) && !p.isSet(flags.allLayers)) {
            lockOptions.settings.allLayers = false;
            lockOptions.settings.randomLayers = 6;
        }
    }
    int64_t evalLimit = 0;
    if (auto e = integer(p, kEvalSamples, evalLimit))
        return fail(*e, Usage);
    CliProgress progress(p.isSet(kQuiet));
    auto inputs = openLockInputs(p, progress, code);
    if (!inputs)
        return code;
    auto &[model, train, test] = *inputs;
    auto drawn = drawEncryptionSet(train, lockOptions.settings);
    if (!drawn)
        return fail(drawn.error());
    const Dataset &encryptionSet = *drawn;
    ProgressScope scope(progress);
    Expected<Sweep> sweep = Error{""};
    if (what == QLatin1String("t-loss")) {
        auto list = numberList(p.value(thresholds), "thresholds");
        if (!list)
            return fail(list.error(), Usage);
        sweep = lossThresholdSweep(model, encryptionSet, test, lockOptions, *list, progress, evalLimit);
    } else if (what == QLatin1String("n-e")) {
        std::vector<int64_t> wanted;
        if (p.isSet(counts)) {
            auto list = numberList(p.value(counts), "counts");
            if (!list)
                return fail(list.error(), Usage);
            for (double c : *list)
                wanted.push_back(int64_t(c));
        } else {
            for (int64_t c = 0; c <= 64; c += 2)
                wanted.push_back(c);
        }
        sweep = encryptedCountSweep(model, encryptionSet, test, lockOptions, wanted, progress, evalLimit);
    } else {
        sweep = perLayerSweep(model, encryptionSet, test, lockOptions, progress, evalLimit);
    }
    progress.finish();
    if (!sweep)
        return fail(sweep.error(), progress.cancelled() ? Cancelled : Failed);
    if (p.isSet(kJson)) {
        json points = json::array();
        for (const auto &pt : sweep->points)
            points.push_back(
                {{"x", pt.x}, {"label", pt.label}, {"accuracy", pt.accuracy}, {"n_encrypted", pt.encrypted}});
        out() << QString::fromStdString(json{{"experiment", sweep->kind}, {"x_label", sweep->xLabel},
            {"mode", lockOptions.settings.mode}, {"points", points},
            {"seconds", sweep->seconds}}.dump(2))
              << Qt::endl;
    } else if (p.isSet(kCsv)) {
        out() << "experiment,x,label,accuracy,n_encrypted\n";
        for (const auto &pt : sweep->points)
            out() << QString::fromStdString(sweep->kind) << ',' << pt.x << ',' << QString::fromStdString(pt.label)
                  << ',' << pt.accuracy << ',' << pt.encrypted << '\n';
        out().flush();
    } else {
        out() << QString::fromStdString(sweep->kind) << " (" << QString::fromStdString(sweep->xLabel) << ", "
              << QString::fromStdString(lockOptions.settings.mode) << " mode):\n";
        for (const auto &pt : sweep->points)
            out() << "  "
                  << (pt.label.empty() ? QString::number(pt.x, 'g', 4) : QString::fromStdString(pt.label))
                         .leftJustified(24)
                  << percent(pt.accuracy).rightJustified(8) << "   n_e " << pt.encrypted << "\n";
        out() << "  (" << QString::number(sweep->seconds, 'f', 1) << " s)" << Qt::endl;
    }
    return Ok;
}

struct Command
{
    const char *name;
    const char *summary;
    std::function<int(const QStringList &)> run;
};

const std::vector<Command> &commands()
{
    static const std::vector<Command> list = {
        {"demo", "lock and unlock the shipped model on real Fashion-MNIST (paper settings)", cmdDemo},
        {"info", "list a model's conv/FC layers, shapes, parameter counts and weight ranges", cmdInfo},
        {"train", "train a zoo model with the paper's recipe", cmdTrain},
        {"evaluate", "measure test accuracy", cmdEvaluate},
        {"lock", "lock a model: write the locked model and the secret key", cmdLock},
        {"unlock", "restore the original model with its key", cmdUnlock},
        {"verify", "tell whether a key fits a model", cmdVerify},
        {"experiment", "the paper's sweeps: accuracy vs T_loss, per locked layer, vs n_e", cmdExperiment},
        {"attack", "attack a locked model: fine-tuning, pruning, adaptive, norm clipping, detection", cmdAttack},
        {"key", "describe key files (key info) and issue password-protected keys to licensees (key issue)", cmdKey},
        {"run", "unlock in memory and classify images; nothing unlocked is written", cmdRun},
        {"bench", "time the lock against its floor, evaluation, unlock and a plain PyTorch peer", cmdBench},
        {"report", "lock in memory, run the attacks and write an HTML + PDF report (no key material)", cmdReport},
    };
    return list;
}

} // namespace

QString commandSummary()
{
    QString text;
    for (const auto &c : commands())
        text += QStringLiteral("  %1 %2\n").arg(QLatin1String(c.name), -10).arg(QLatin1String(c.summary));
    return text;
}

int runCommand(const QString &command, const QStringList &args)
{
    for (const auto &c : commands())
        if (command == QLatin1String(c.name))
            return c.run(args);
    return fail("unknown command \"" + command.toStdString() + "\"; run 'paramlock-cli --help'", Usage);
}

} // namespace paramlock::cli
