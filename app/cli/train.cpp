#include "commands.h"

#include "cliutil.h"
#include "training.h"
#include "version.h"

#include <nlohmann/json.hpp>

namespace paramlock::cli {

using nlohmann::json;

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
                  << percentString(e.trainAccuracy) << ", test " << percentString(e.testAccuracy) << ", "
                  << QString::number(e.seconds, 'f', 1) << " s\n";
        out() << "Wrote " << p.value(outFile) << " (test accuracy " << percentString(accuracy) << ")" << Qt::endl;
    }
    return Ok;
}

} // namespace paramlock::cli
