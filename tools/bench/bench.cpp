// paramlock-bench: AdvParams' lock against its floor (one forward+backward per iteration), evaluation against
// the raw forward pass, unlock, and the same lock written plainly in PyTorch, all measured in one run.
#include "support.h"

#include "advparams.h"
#include "cliutil.h"
#include "nnsplitter.h"
#include "resources.h"
#include "training.h"
#include "unlock.h"

#include <nlohmann/json.hpp>

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <numeric>
#include <random>
#include <sys/resource.h>
#include <thread>

namespace paramlock::cli {

using nlohmann::json;

int cmdBench(const QStringList &args)
{
    // The lock's own defaults: the bench times the lock a user gets.
    const AdvParamsSettings defaults;
    const QCommandLineOption samples(QStringLiteral("samples"),
        QStringLiteral("Encryption-set size N (default %1).").arg(defaults.samples), QStringLiteral("N"),
        QString::number(defaults.samples));
    const QCommandLineOption batch(QStringLiteral("batch-size"),
        QStringLiteral("Chunk size of the encryption-set passes (default %1, as the lock's).").arg(defaults.chunkSize),
        QStringLiteral("N"), QString::number(defaults.chunkSize));
    const QCommandLineOption randomLayers(QStringLiteral("random-layers"),
        QStringLiteral("Paper mode: layers drawn with the seed (default %1, the paper's setting).")
            .arg(kPaperRandomLayers),
        QStringLiteral("K"), QString::number(kPaperRandomLayers));
    const QCommandLineOption maxIter(QStringLiteral("max-iter"),
        QStringLiteral("Paper mode: iterations per layer I (default %1).").arg(defaults.maxIterations),
        QStringLiteral("N"), QString::number(defaults.maxIterations));
    const QCommandLineOption maxWeights(QStringLiteral("max-weights"),
        QStringLiteral("Strong mode: weight budget (default: the lock's, by model size)."), QStringLiteral("N"),
        QStringLiteral("0"));
    const QCommandLineOption repeats(QStringLiteral("repeats"),
        QStringLiteral("Rounds of floor and lock measurements, each ratio taken within its round; the medians "
                       "count (default 3)."),
        QStringLiteral("N"), QStringLiteral("3"));
    const QCommandLineOption batchSizes(QStringLiteral("batch-sizes"),
        QStringLiteral("Chunk sizes whose floor (all layers) is compared (default 25,50,100,300)."),
        QStringLiteral("LIST"), QStringLiteral("25,50,100,300"));
    const QCommandLineOption arch(QStringLiteral("arch"),
        QStringLiteral("Time a freshly initialised zoo network instead of a file (with --data random): "
                       "resnet56 (3x32x32, 10 classes), alexnet-gtsrb (3x32x32, 43 classes), densenet-fmnist, "
                       "lenet5."),
        QStringLiteral("NAME"));
    const QCommandLineOption skipStrong(QStringLiteral("skip-strong"), QStringLiteral("Time the paper mode only."));
    const QCommandLineOption nnsplitter(QStringLiteral("nnsplitter"),
        QStringLiteral("Also time an NNSplitter lock at its defaults: its lock time and its time per epoch against "
                       "one forward+backward of the same training images with the gradient to its layers (its "
                       "floor)."));
    QCommandLineOption memoryProbe(QStringLiteral("memory-probe"),
        QStringLiteral("Internal: measure the strong lock's memory in this process and print it as JSON."));
    memoryProbe.setFlags(QCommandLineOption::HiddenFromHelp);
    const QCommandLineOption peer(QStringLiteral("peer"),
        QStringLiteral("Also run the same paper-mode lock written plainly in PyTorch (/usr/bin/python3) and compare."));
    const QCommandLineOption peerTargetOnly(QStringLiteral("peer-target-only"),
        QStringLiteral("The peer asks autograd for the gradient of the layer it changes only, as a tuned loop would "
                       "(default: of every parameter, PyTorch's default)."));
    const QCommandLineOption endToEnd(QStringLiteral("end-to-end"),
        QStringLiteral("Also time what a user runs, each in its own process: paramlock-cli evaluate, and paramlock-cli "
                       "lock in paper mode with this run's model, data, seed, layers and settings (start, loading, "
                       "both evaluations, the lock, saving); with --peer the Python peer does the same around its "
                       "lock (IDX datasets such as fashion-mnist)."));
    const QCommandLineOption cliProgram(QStringLiteral("cli"),
        QStringLiteral("The paramlock-cli that --end-to-end times (default: the one beside this bench)."),
        QStringLiteral("FILE"));
    const QCommandLineOption peerScript(QStringLiteral("peer-script"),
        QStringLiteral("The Python peer (default: tests/bench/peer_advparams.py of the source tree)."),
        QStringLiteral("FILE"));
    QCommandLineParser p;
    int code = Usage;
    if (!parse(p, args,
            QStringLiteral("Measures the lock against its floor (one forward+backward per iteration), evaluation "
                           "against the raw forward pass and unlock, on one model, in one run. --data random times "
                           "models whose dataset is not installed."),
            {kModel, arch, kData, kSeed, samples, batch, batchSizes, randomLayers, maxIter, maxWeights, repeats,
                skipStrong, nnsplitter, memoryProbe, peer, peerTargetOnly, peerScript, endToEnd, cliProgram,
                kEvalSamples, kInputMean, kInputStd, kNumClasses, kThreads, kQuiet, kJson},
            code))
        return code;
    applyThreads(p);
    int64_t n = 0, batchSize = 0, k = 0, iterations = 0, budget = 0, reps = 0, evalLimit = 0;
    for (auto [opt, target] : {std::pair{&samples, &n}, {&batch, &batchSize}, {&randomLayers, &k},
             {&maxIter, &iterations}, {&maxWeights, &budget}, {&repeats, &reps}, {&kEvalSamples, &evalLimit}})
        if (auto e = integer(p, *opt, *target))
            return fail(*e, Usage);
    if (n < 1 || batchSize < 1 || k < 1 || iterations < 1 || reps < 1)
        return fail("--samples, --batch-size, --random-layers, --max-iter and --repeats must be positive", Usage);
    const QString modelPath = p.isSet(arch) ? QStringLiteral("zoo:") + p.value(arch)
        : p.isSet(kModel)                   ? p.value(kModel)
                                            : QString::fromStdString(demoModelPath());
    Expected<Model> model = Error{""};
    if (p.isSet(arch)) {
        ModelMetadata meta;
        const bool greyscale =
            p.value(arch) == QLatin1String("lenet5") || p.value(arch) == QLatin1String("densenet-fmnist");
        meta.channels = greyscale ? 1 : 3;
        meta.height = meta.width = greyscale ? 28 : 32;
        meta.classCount = p.value(arch) == QLatin1String("alexnet-gtsrb") ? 43 : 10;
        model = Model::create(p.value(arch).toStdString(), meta, 0);
    } else {
        model = Model::load(modelPath.toStdString());
    }
    if (!model)
        return fail(model.error());
    const QString dataName = p.isSet(kData) ? p.value(kData) : QStringLiteral("fashion-mnist");
    CliProgress progress(p.isSet(kQuiet) || p.isSet(kJson));
    Dataset train, test;
    if (dataName == QLatin1String("random")) {
        if (auto ok = completeMetadata(*model, p, nullptr); !ok)
            return fail(ok.error(), Usage);
        if (!model->metadata().hasInputShape())
            return fail("--data random needs a model that records its input shape", Usage);
        train = randomDataset(model->metadata(), n, 1);
        test = randomDataset(model->metadata(), std::max<int64_t>(n, evalLimit > 0 ? evalLimit : 1000), 2);
    } else {
        auto loadedTrain = loadDataset(dataName.toStdString(), Split::Train);
        auto loadedTest = loadDataset(dataName.toStdString(), Split::Test);
        if (!loadedTrain || !loadedTest)
            return fail(!loadedTrain ? loadedTrain.error() : loadedTest.error());
        train = std::move(*loadedTrain);
        test = std::move(*loadedTest);
        if (auto ok = completeMetadata(*model, p, &train); !ok)
            return fail(ok.error(), Usage);
    }
    SamplingOptions sampling;
    sampling.count = n;
    sampling.seed = p.value(kSeed).toULongLong();
    auto indices = sampleIndices(train, sampling);
    if (!indices)
        return fail(indices.error());
    const Dataset de = train.subset(*indices);

    AdvParamsOptions paper;
    paper.settings.chunkSize = int(batchSize);
    paper.settings.mode = LockMode::Paper;
    paper.settings.samples = n;
    paper.settings.seed = sampling.seed;
    paper.settings.randomLayers = int(k);
    paper.settings.maxIterations = int(iterations);
    auto layers = resolveLayerSet(*model, paper.settings);
    if (!layers)
        return fail(layers.error());
    paper.settings.layers = *layers;
    paper.settings.randomLayers = 0;

    ProgressScope scope(progress);
    auto stage = [&](const char *what) { progress.advance(0.0, what); };
    const std::vector<std::string> allLayers = model->layerNames();
    // ParamLock's default lock; random labels leave a model at random-guess accuracy from the start, so there the
    // whole budget is timed.
    auto strongOptions = [&](int64_t weights) {
        AdvParamsOptions strong;
        strong.settings.chunkSize = int(batchSize);
        strong.settings.mode = LockMode::Strong;
        strong.settings.allLayers = true;
        strong.settings.samples = n;
        strong.settings.seed = sampling.seed;
        strong.settings.maxWeights = weights;
        if (dataName == QLatin1String("random"))
            strong.settings.targetAccuracy = 1e-9;
        return strong;
    };
    if (p.isSet(memoryProbe))
        return probeMemory(*model, de, allLayers, strongOptions(4));

    // Floors and locks are measured in rounds, and each ratio is taken within its round: this machine's speed
    // drifts from one minute to the next, so a lock is compared with the floor measured just before it. A round
    // times the floor (one pass with the gradient reaching one layer, per layer of the set, and all layers at
    // once), the paper-mode lock with and without reusing activations, and the strong lock. The ratios reported
    // are the medians of the rounds' ratios, the times the medians of the rounds' times. Only the first round's
    // lock results are kept (each holds a copy of the model); the locks pick the same weights every round.
    struct Round
    {
        std::map<std::string, double> floorOf;
        std::map<std::string, double> stagedFloorOf; ///< the same from the layer's stage, the inputs there computed
        double floorAll = 0.0;
        double floorAllBlasPool = 0.0; ///< the same with OpenBLAS's own pool of one thread per core
        double forward = 0.0; ///< the forward pass alone, no gradient (one lookahead measurement)
        double paper = 0.0, plain = 0.0, strong = 0.0, firstOrder = 0.0;
    };
    std::vector<Round> rounds;
    std::optional<AdvParamsLock> paperLock, plainLock, strongLock, firstOrderLock;
    AdvParamsOptions plain = paper;
    plain.reuseActivations = false;
    auto timeLock = [&](const AdvParamsOptions &options, std::optional<AdvParamsLock> &keep) -> Expected<double> {
        auto locked = lockModel(*model, de, options, progress);
        if (!locked)
            return Error{locked.error()};
        const double seconds = locked->seconds;
        if (!keep)
            keep = std::move(*locked);
        return seconds;
    };
    auto timeFloor = [&](const std::vector<std::string> &gradientLayers) {
        return gradientPassSeconds(*model, de, gradientLayers, int(batchSize), 1);
    };
    const int blasOwn = blasThreads();
    const int blasPool = blasOwn > 0 ? std::max(1, int(std::thread::hardware_concurrency())) : 0;
    for (int64_t r = 0; r < reps; ++r) {
        Round round;
        stage("timing the floor");
        for (const std::string &layer : *layers) {
            auto seconds = timeFloor({layer});
            if (!seconds)
                return fail(seconds.error());
            round.floorOf[layer] = *seconds;
            // What reusing the activations below the layer leaves of an iteration: the reuse's ceiling.
            if (!(seconds = gradientPassSeconds(*model, de, {layer}, int(batchSize), 1, true)))
                return fail(seconds.error());
            round.stagedFloorOf[layer] = *seconds;
        }
        auto all = timeFloor(allLayers);
        if (!all)
            return fail(all.error());
        round.floorAll = *all;
        auto forward = timeFloor({});
        if (!forward)
            return fail(forward.error());
        round.forward = *forward;
        if (blasPool > 1) {
            // What running OpenBLAS on the calling thread buys: the same floor with its own pool.
            setBlasThreads(blasPool);
            auto pooled = timeFloor(allLayers);
            setBlasThreads(blasOwn);
            if (!pooled)
                return fail(pooled.error());
            round.floorAllBlasPool = *pooled;
        }
        const auto lockFailed = [&](const std::string &why) {
            return fail(why, progress.cancelled() ? Cancelled : Failed);
        };
        stage("locking (paper mode)");
        auto seconds = timeLock(paper, paperLock);
        if (!seconds)
            return lockFailed(seconds.error());
        round.paper = *seconds;
        // The same lock without reusing the activations below the changed layer: what that optimisation buys.
        stage("locking (paper mode, full forward every iteration)");
        if (!(seconds = timeLock(plain, plainLock)))
            return lockFailed(seconds.error());
        round.plain = *seconds;
        if (!p.isSet(skipStrong)) {
            stage("locking (strong mode)");
            if (!(seconds = timeLock(strongOptions(budget), strongLock)))
                return lockFailed(seconds.error());
            round.strong = *seconds;
            // Without measuring the candidates' real gain: what the lookahead costs per step and saves in steps.
            stage("locking (strong mode, first-order draw)");
            AdvParamsOptions firstOrder = strongOptions(budget);
            firstOrder.settings.lookahead = false;
            if (!(seconds = timeLock(firstOrder, firstOrderLock)))
                return lockFailed(seconds.error());
            round.firstOrder = *seconds;
        }
        rounds.push_back(std::move(round));
    }
    bool reuseIdentical = plainLock->steps.size() == paperLock->steps.size();
    for (size_t i = 0; reuseIdentical && i < plainLock->steps.size(); ++i)
        reuseIdentical = plainLock->steps[i].layer == paperLock->steps[i].layer
            && plainLock->steps[i].flatIndex == paperLock->steps[i].flatIndex;
    // One more pass closes every paper-mode lock: the one that found the loss above T_loss, or the one that
    // measures the encryption set after the last step. The strong lock's closing pass measures the set too.
    const int paperPasses = int(paperLock->steps.size()) + 1;
    const std::string closingLayer = paperLock->steps.empty() ? layers->front() : paperLock->steps.back().layer;
    const int strongPasses = strongLock ? strongLock->iterations + 1 : 0;
    const int64_t lookaheadPasses = strongLock ? strongLock->lookaheadPasses : 0;
    const int firstOrderPasses = firstOrderLock ? firstOrderLock->iterations + 1 : 0;
    auto paperFloorOf = [&](const Round &round) {
        double floor = round.floorOf.at(closingLayer);
        for (const AdvParamsStep &step : paperLock->steps)
            floor += round.floorOf.at(step.layer);
        return floor;
    };
    // The same passes from each step's layer's stage: the least a lock that reuses activations can take.
    auto stagedFloorOf = [&](const Round &round) {
        double floor = round.stagedFloorOf.at(closingLayer);
        for (const AdvParamsStep &step : paperLock->steps)
            floor += round.stagedFloorOf.at(step.layer);
        return floor;
    };
    auto medianOf = [&](const std::function<double(const Round &)> &value) {
        std::vector<double> v;
        for (const Round &round : rounds)
            v.push_back(value(round));
        return median(std::move(v));
    };
    auto perRound = [&](const std::function<double(const Round &)> &value) {
        json v = json::array();
        for (const Round &round : rounds)
            v.push_back(value(round));
        return v;
    };
    const auto paperRatioOf = [&](const Round &round) { return round.paper / paperFloorOf(round); };
    const auto plainRatioOf = [&](const Round &round) { return round.plain / paperFloorOf(round); };
    // The strong lock's floor: its gradient passes, plus one forward pass per candidate it measured.
    const auto strongFloorOf = [&](const Round &round) {
        return double(strongPasses) * round.floorAll + double(lookaheadPasses) * round.forward;
    };
    const auto strongRatioOf = [&](const Round &round) { return round.strong / strongFloorOf(round); };
    const auto firstOrderRatioOf = [&](const Round &round) {
        return round.firstOrder / (double(firstOrderPasses) * round.floorAll);
    };
    std::map<std::string, double> floorOf, stagedOf;
    for (const std::string &layer : *layers) {
        floorOf[layer] = medianOf([&](const Round &round) { return round.floorOf.at(layer); });
        stagedOf[layer] = medianOf([&](const Round &round) { return round.stagedFloorOf.at(layer); });
    }
    const double reuseCeiling =
        medianOf([&](const Round &round) { return paperFloorOf(round) / stagedFloorOf(round); });
    std::string stagePlan;
    for (const std::string &note : paperLock->notes)
        if (note.find("stages") != std::string::npos || note.find("whole model") != std::string::npos)
            stagePlan = note;
    const double floorAll = medianOf([](const Round &round) { return round.floorAll; });
    const double forwardFloor = medianOf([](const Round &round) { return round.forward; });
    const auto blasPoolRatioOf = [](const Round &round) { return round.floorAllBlasPool / round.floorAll; };
    const double paperFloor = medianOf(paperFloorOf);
    paperLock->seconds = medianOf([](const Round &round) { return round.paper; });
    plainLock->seconds = medianOf([](const Round &round) { return round.plain; });
    if (strongLock) {
        strongLock->seconds = medianOf([](const Round &round) { return round.strong; });
        firstOrderLock->seconds = medianOf([](const Round &round) { return round.firstOrder; });
    }

    // NNSplitter at its defaults beside AdvParams, on the same model and machine: an epoch of its ascent against one
    // forward+backward of its training images with the gradient to the layers it obfuscates.
    struct NNSplitterTiming
    {
        NNSplitterLock lock;
        int64_t images = 0;
        double epochSeconds = 0.0; ///< the median epoch (each also evaluates the validation split)
        double floorSeconds = 0.0;
    };
    std::optional<NNSplitterTiming> nn;
    if (p.isSet(nnsplitter)) {
        stage("locking (NNSplitter)");
        NNSplitterSettings settings;
        settings.seed = sampling.seed;
        if (dataName == QLatin1String("random")) // random labels never reach a target: two epochs are timed
            settings.maxEpochs = settings.patience = 2;
        auto drawn = nnSplitterSample(train, settings);
        if (!drawn)
            return fail(drawn.error());
        const Dataset sample = train.subset(*drawn);
        Model input = *model;
        auto locked = nnSplitterLock(input, false, sample, settings, progress);
        if (!locked)
            return fail(locked.error(), progress.cancelled() ? Cancelled : Failed);
        NNSplitterTiming t;
        t.images = trainingPart(sample.size(), settings);
        std::vector<int64_t> first(static_cast<size_t>(t.images));
        std::iota(first.begin(), first.end(), 0);
        std::vector<std::string> obfuscated;
        for (const LayerLockReport &l : locked->layers)
            obfuscated.push_back(l.layer);
        stage("timing NNSplitter's floor");
        auto floor = gradientPassSeconds(*model, sample.subset(first), obfuscated, settings.batchSize, int(reps));
        if (!floor)
            return fail(floor.error());
        t.floorSeconds = *floor;
        std::vector<double> epochs;
        for (const ObfuscationEpoch &e : locked->epochs)
            if (e.epoch > 0)
                epochs.push_back(e.seconds);
        t.epochSeconds = epochs.empty() ? 0.0 : median(epochs);
        t.lock = std::move(*locked);
        nn = std::move(t);
    }

    // The chunk size matters (cache effects): the floor of all layers in other chunk sizes.
    std::vector<std::pair<int, double>> floorByBatch;
    for (const QString &b : p.value(batchSizes).split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const int size = b.trimmed().toInt();
        if (size < 1)
            return fail("--batch-sizes expects positive whole numbers", Usage);
        stage("timing chunk sizes");
        auto seconds = gradientPassSeconds(*model, de, allLayers, size, int(reps));
        if (!seconds)
            return fail(seconds.error());
        floorByBatch.emplace_back(size, *seconds);
    }

    stage("timing evaluation");
    EvaluationOptions eval;
    eval.limit = evalLimit;
    // A warm-up first (TorchScript specialises its graph on the first calls of a shape), then rounds of
    // evaluation and the raw forward pass side by side; the ratio is the median of the rounds' ratios.
    auto evaluation = evaluate(*model, test, eval);
    if (!evaluation)
        return fail(evaluation.error());
    std::vector<std::pair<double, double>> evalRounds; // evaluation, raw forward
    for (int64_t r = 0; r < reps; ++r) {
        evaluation = evaluate(*model, test, eval);
        if (!evaluation)
            return fail(evaluation.error());
        auto raw = rawForwardSeconds(*model, test, eval.batchSize, evalLimit);
        if (!raw)
            return fail(raw.error());
        evalRounds.emplace_back(evaluation->seconds, *raw);
    }
    const auto medianPair = [&](const std::function<double(const std::pair<double, double> &)> &value) {
        std::vector<double> v;
        for (const auto &round : evalRounds)
            v.push_back(value(round));
        return median(std::move(v));
    };
    evaluation->seconds = medianPair([](const auto &round) { return round.first; });
    const std::optional<double> rawForward = medianPair([](const auto &round) { return round.second; });
    const double evalRatio = medianPair([](const auto &round) { return round.first / round.second; });

    const AdvParamsLock &forUnlock = strongLock ? *strongLock : *paperLock;
    UnlockTiming unlockTiming;
    stage("timing unlock");
    // In place, as `unlock` and `run` do with the model they read; the copy here is not part of the unlock.
    Model unlockTarget = forUnlock.locked.clone();
    if (auto unlocked = unlockInPlace(unlockTarget, forUnlock.key, &unlockTiming); !unlocked)
        return fail(unlocked.error());
    progress.finish();

    // Memory in a fresh process: this one has held copies of the model and tensors of every size by now.
    MemoryReading memory;
    if (!p.isSet(skipStrong)) {
        if (!p.isSet(kQuiet) && !p.isSet(kJson))
            err() << "Measuring the strong lock's memory in a fresh process..." << Qt::endl;
        if (auto probed = runMemoryProbe(args, memory); !probed)
            return fail(probed.error());
    }

    // What a user runs, end to end, beside the peer doing the same.
    struct EndToEndRun
    {
        double evaluate = 0.0, lock = 0.0;
    };
    std::optional<EndToEndRun> endToEndRun;
    std::optional<PeerEndToEnd> peerEndToEnd;
    if (p.isSet(endToEnd)) {
        if (p.isSet(arch) || dataName == QLatin1String("random"))
            return fail(
                "--end-to-end times the programs on a model file and a dataset: give --model and --data", Usage);
        const QString cli = p.isSet(cliProgram) ? p.value(cliProgram) : defaultCli();
        if (cli.isEmpty())
            return fail("paramlock-cli was not found beside the bench; give --cli", Usage);
        QStringList common{QStringLiteral("--model"), modelPath, QStringLiteral("--data"), dataName,
            QStringLiteral("--threads"), QString::number(threadCount()), QStringLiteral("--quiet")};
        if (evalLimit > 0)
            common << QStringLiteral("--eval-samples") << QString::number(evalLimit);
        for (const QCommandLineOption *o : {&kInputMean, &kInputStd, &kNumClasses})
            if (p.isSet(*o))
                common << QStringLiteral("--") + o->names().constFirst() << p.value(*o);
        QStringList layerList;
        for (const std::string &l : *layers)
            layerList << QString::fromStdString(l);
        QTemporaryDir outputs;
        if (!outputs.isValid())
            return fail("cannot create a temporary folder for the locked model");
        EndToEndRun run;
        stage("timing paramlock-cli evaluate");
        auto seconds = timeCommand(cli, QStringList{QStringLiteral("evaluate")} + common);
        if (!seconds)
            return fail(seconds.error());
        run.evaluate = *seconds;
        stage("timing paramlock-cli lock");
        seconds = timeCommand(cli,
            QStringList{QStringLiteral("lock")} + common
                + QStringList{QStringLiteral("--mode"), QStringLiteral("paper"), QStringLiteral("--seed"),
                    p.value(kSeed), QStringLiteral("--samples"), QString::number(n), QStringLiteral("--batch-size"),
                    QString::number(batchSize), QStringLiteral("--max-iter"), QString::number(iterations),
                    QStringLiteral("--layers"), layerList.join(QLatin1Char(',')), QStringLiteral("--out-model"),
                    outputs.filePath(QStringLiteral("locked.pt")), QStringLiteral("--out-key"),
                    outputs.filePath(QStringLiteral("key.json")), QStringLiteral("--allow-weak")});
        if (!seconds)
            return fail(seconds.error());
        run.lock = *seconds;
        endToEndRun = run;
        const QString folder =
            dataName == QLatin1String("fashion-mnist") ? QString::fromStdString(debianFashionMnistPath()) : dataName;
        peerEndToEnd = PeerEndToEnd{folder, evalLimit};
    }

    std::optional<PeerRun> peerRun;
    if (p.isSet(peer)) {
        const QString script = p.isSet(peerScript) ? p.value(peerScript) : defaultPeerScript();
        if (script.isEmpty())
            return fail("the Python peer script was not found; give --peer-script", Usage);
        if (!p.isSet(kQuiet) && !p.isSet(kJson))
            err() << "Running the Python peer (" << script << ")..." << Qt::endl;
        auto r = runPeer(script, modelPath, *model, de, paper.settings, *layers, int(batchSize),
            p.isSet(peerTargetOnly), peerEndToEnd ? &*peerEndToEnd : nullptr);
        if (!r)
            return fail(r.error());
        peerRun = std::move(*r);
    }

    const double paperRatio = medianOf(paperRatioOf);
    const double plainRatio = medianOf(plainRatioOf);
    const double strongRatio = strongLock ? medianOf(strongRatioOf) : 0.0;
    const double strongFloor = strongLock ? medianOf(strongFloorOf) : 0.0;
    const double firstOrderRatio = strongLock ? medianOf(firstOrderRatioOf) : 0.0;
    int samePicks = 0;
    bool identical = false;
    if (peerRun) {
        for (size_t i = 0; i < std::min(peerRun->picks.size(), paperLock->steps.size()); ++i)
            samePicks += peerRun->picks[i].first == paperLock->steps[i].layer
                && peerRun->picks[i].second == paperLock->steps[i].flatIndex;
        identical = samePicks == int(paperLock->steps.size()) && peerRun->picks.size() == paperLock->steps.size();
    }
    const double unlockTotal =
        unlockTiming.checkSeconds + unlockTiming.copySeconds + unlockTiming.applySeconds + unlockTiming.verifySeconds;

    if (p.isSet(kJson)) {
        json byBatch = json::object();
        for (const auto &[size, seconds] : floorByBatch)
            byBatch[std::to_string(size)] = seconds;
        json floors = json::object(), staged = json::object();
        for (const auto &[layer, seconds] : floorOf)
            floors[layer] = seconds;
        for (const auto &[layer, seconds] : stagedOf)
            staged[layer] = seconds;
        json j = {{"model", modelPath.toStdString()}, {"parameters", model->parameterCount()},
            {"dataset", dataName.toStdString()}, {"samples", n}, {"batch_size", batchSize}, {"threads", threadCount()},
            {"rounds", reps},
            {"floor_seconds",
                {{"per_layer", floors}, {"per_layer_from_its_stage", staged}, {"all_layers", floorAll},
                    {"forward_only", forwardFloor},
                    {"all_layers_per_round", perRound([](const Round &round) { return round.floorAll; })},
                    {"all_layers_by_chunk", byBatch}}},
            {"paper",
                {{"layers", *layers}, {"iterations", paperLock->iterations}, {"passes", paperPasses},
                    {"seconds", paperLock->seconds}, {"floor_seconds", paperFloor}, {"ratio", paperRatio},
                    {"ratio_per_round", perRound(paperRatioOf)}, {"n_encrypted", paperLock->encryptedCount()},
                    {"seconds_without_reuse", plainLock->seconds}, {"ratio_without_reuse", plainRatio},
                    {"ratio_without_reuse_per_round", perRound(plainRatioOf)},
                    {"reuse_speedup", plainLock->seconds / paperLock->seconds}, {"reuse_ceiling", reuseCeiling},
                    {"stages", stagePlan}, {"reuse_same_positions", reuseIdentical}}},
            {"evaluation",
                {{"images", evaluation->total}, {"accuracy", evaluation->accuracy}, {"seconds", evaluation->seconds},
                    {"raw_forward_seconds", *rawForward}, {"ratio", evalRatio}}},
            {"unlock",
                {{"entries", forUnlock.secret.entries.size()}, {"apply_seconds", unlockTiming.applySeconds},
                    {"in_place", true}, {"check_seconds", unlockTiming.checkSeconds},
                    {"verify_seconds", unlockTiming.verifySeconds}, {"total_seconds", unlockTotal}}},
            {"peak_memory_mib", peakMemoryMiB()}};
        if (blasOwn > 0)
            j["blas"] = {{"threads", blasOwn}};
        if (blasPool > 1) {
            j["blas"]["pool_threads"] = blasPool;
            j["blas"]["floor_all_layers_with_pool"] =
                medianOf([](const Round &round) { return round.floorAllBlasPool; });
            j["blas"]["with_pool_per_round"] = perRound([](const Round &round) { return round.floorAllBlasPool; });
            j["blas"]["pool_slowdown"] = medianOf(blasPoolRatioOf);
        }
        if (memory.valid)
            j["strong_lock_memory"] = {{"base_mib", memory.baseMiB}, {"model_mib", memory.modelMiB},
                {"gradient_mib", memory.gradientMiB}, {"one_batch_activations_mib", memory.batchMiB},
                {"lock_peak_above_base_mib", memory.lockMiB}, {"model_multiple", memory.modelMultiple()}};
        if (strongLock)
            j["strong"] = {{"iterations", strongLock->iterations}, {"passes", strongPasses},
                {"lookahead_passes", lookaheadPasses}, {"seconds", strongLock->seconds}, {"floor_seconds", strongFloor},
                {"ratio", strongRatio}, {"ratio_per_round", perRound(strongRatioOf)},
                {"n_encrypted", strongLock->encryptedCount()},
                {"first_order",
                    {{"iterations", firstOrderLock->iterations}, {"passes", firstOrderPasses},
                        {"seconds", firstOrderLock->seconds}, {"floor_seconds", double(firstOrderPasses) * floorAll},
                        {"ratio", firstOrderRatio}, {"ratio_per_round", perRound(firstOrderRatioOf)},
                        {"n_encrypted", firstOrderLock->encryptedCount()}}}};
        if (nn)
            j["nnsplitter"] = {{"seconds", nn->lock.seconds}, {"selection_seconds", nn->lock.selectionSeconds},
                {"epochs", int(nn->lock.epochs.size()) - 1}, {"images_per_epoch", nn->images},
                {"epoch_seconds", nn->epochSeconds}, {"floor_seconds", nn->floorSeconds},
                {"ratio", nn->floorSeconds > 0.0 ? nn->epochSeconds / nn->floorSeconds : 0.0},
                {"n_encrypted", nn->lock.encryptedCount()}, {"validation_accuracy", nn->lock.finalAccuracy}};
        if (peerRun)
            j["peer"] = {{"seconds", peerRun->seconds}, {"iterations", peerRun->iterations},
                {"torch", peerRun->torchVersion}, {"speedup", peerRun->seconds / paperLock->seconds},
                {"gradient", p.isSet(peerTargetOnly) ? "target layer" : "all parameters"}, {"same_picks", samePicks},
                {"identical_positions", identical}, {"wall_seconds", peerRun->wallSeconds}};
        if (endToEndRun) {
            j["end_to_end"] = {{"evaluate_seconds", endToEndRun->evaluate}, {"lock_seconds", endToEndRun->lock}};
            if (peerRun)
                j["end_to_end"]["peer"] = {{"seconds", peerRun->wallSeconds},
                    {"accuracy_before", peerRun->accuracyBefore}, {"accuracy_after", peerRun->accuracyAfter},
                    {"speedup", peerRun->wallSeconds / endToEndRun->lock}};
        }
        out() << QString::fromStdString(j.dump(2)) << Qt::endl;
        return (peerRun && !identical) || !reuseIdentical ? Failed : Ok;
    }

    out() << "Model:      " << modelPath << " (" << model->parameterCount() << " parameters)\n"
          << "Data:       " << dataName << ", N = " << n << " in chunks of " << batchSize << ", " << threadCount()
          << " threads\n\n"
          << "Floor (one forward+backward of the encryption set, gradient only to the layer; median of " << reps
          << " rounds), and from the layer's stage with the activations below it computed once (the share of an "
          << "iteration that reuse removes):\n";
    int nameWidth = 28;
    for (const std::string &layer : *layers)
        nameWidth = std::max(nameWidth, int(layer.size()) + 2);
    for (const std::string &layer : *layers)
        out() << "  " << QString::fromStdString(layer).leftJustified(nameWidth) << fixed(floorOf[layer] * 1000.0, 2)
              << " ms   from its stage " << fixed(stagedOf[layer] * 1000.0, 2) << " ms ("
              << fixed(100.0 * (1.0 - stagedOf[layer] / floorOf[layer]), 0) << "% removed)\n";
    out() << "  " << QStringLiteral("all conv/FC layers").leftJustified(nameWidth) << fixed(floorAll * 1000.0, 2)
          << " ms\n";
    out() << "  " << QStringLiteral("forward only, no gradient").leftJustified(nameWidth)
          << fixed(forwardFloor * 1000.0, 2) << " ms\n";
    if (blasPool > 1)
        out() << "  " << QStringLiteral("all, OpenBLAS pool of %1").arg(blasPool).leftJustified(nameWidth)
              << fixed(medianOf([](const Round &round) { return round.floorAllBlasPool; }) * 1000.0, 2) << " ms ("
              << fixed(medianOf(blasPoolRatioOf), 2) << " x, median of the rounds; ParamLock runs OpenBLAS on "
              << blasOwn << " thread" << (blasOwn == 1 ? "" : "s") << ")\n";
    for (const auto &[size, seconds] : floorByBatch)
        out() << "  " << QStringLiteral("all layers, chunks of %1").arg(size).leftJustified(nameWidth)
              << fixed(seconds * 1000.0, 2) << " ms\n";
    out() << "\n";
    out() << "Lock               passes   seconds   floor x passes   ratio (median of the rounds' ratios)\n";
    out() << "  paper mode       " << QString::number(paperPasses).rightJustified(6) << "   "
          << fixed(paperLock->seconds, 3).rightJustified(7) << "   " << fixed(paperFloor, 3).rightJustified(14) << "   "
          << fixed(paperRatio, 2) << "\n";
    out() << "  paper, no reuse  " << QString::number(paperPasses).rightJustified(6) << "   "
          << fixed(plainLock->seconds, 3).rightJustified(7) << "   " << fixed(paperFloor, 3).rightJustified(14) << "   "
          << fixed(plainRatio, 2)
          << "   (reusing the activations below the layer: " << fixed(plainLock->seconds / paperLock->seconds, 2)
          << "x, positions " << (reuseIdentical ? "identical" : "DIFFER") << "; the floors allow "
          << fixed(reuseCeiling, 2) << "x)\n";
    if (!stagePlan.empty())
        out() << "  (" << QString::fromStdString(stagePlan) << ")\n";
    if (strongLock) {
        out() << "  strong mode      " << QString::number(strongPasses).rightJustified(6) << "   "
              << fixed(strongLock->seconds, 3).rightJustified(7) << "   " << fixed(strongFloor, 3).rightJustified(14)
              << "   " << fixed(strongRatio, 2) << "   (and " << lookaheadPasses << " forward passes measuring "
              << "candidates; " << strongLock->encryptedCount() << " weights)\n";
        out() << "  strong, 1st order" << QString::number(firstOrderPasses).rightJustified(6) << "   "
              << fixed(firstOrderLock->seconds, 3).rightJustified(7) << "   "
              << fixed(double(firstOrderPasses) * floorAll, 3).rightJustified(14) << "   " << fixed(firstOrderRatio, 2)
              << "   (without the lookahead; " << firstOrderLock->encryptedCount() << " weights)\n";
    }
    if (nn)
        out() << "  NNSplitter       " << QString::number(int(nn->lock.epochs.size()) - 1).rightJustified(6) << "   "
              << fixed(nn->lock.seconds, 3).rightJustified(7) << "   (epochs; " << nn->lock.encryptedCount()
              << " weights; choosing the filters " << fixed(nn->lock.selectionSeconds, 2) << " s)\n"
              << "    one epoch of " << nn->images << " images: " << fixed(nn->epochSeconds, 3)
              << " s (median; with the validation split's forward pass) against its floor, one forward+backward "
              << "of them with the gradient to its layers: " << fixed(nn->floorSeconds, 3) << " s; ratio "
              << fixed(nn->floorSeconds > 0.0 ? nn->epochSeconds / nn->floorSeconds : 0.0, 2) << "\n";
    out() << "\nEvaluation of " << evaluation->total << " images: " << fixed(evaluation->seconds, 3)
          << " s; raw forward " << fixed(*rawForward, 3) << " s; ratio " << fixed(evalRatio, 2) << "\n"
          << "Unlock of " << forUnlock.secret.entries.size() << " entries in place: apply "
          << fixed(unlockTiming.applySeconds * 1e6, 1) << " us; with the two fingerprint checks "
          << fixed(unlockTotal * 1e3, 3) << " ms\n"
          << "Peak memory: " << fixed(peakMemoryMiB(), 0) << " MiB\n";
    if (memory.valid)
        out() << "Strong lock's peak memory (fresh process) above LibTorch, model and data ("
              << fixed(memory.baseMiB, 0) << " MiB): " << fixed(memory.lockMiB, 1) << " MiB; model "
              << fixed(memory.modelMiB, 1) << " MiB, one chunk's activations " << fixed(memory.batchMiB, 1)
              << " MiB: " << fixed(memory.modelMultiple(), 2) << " x the model's size besides one batch's activations"
              << " (the input model counted)\n";
    if (peerRun)
        out() << "\nPython peer (PyTorch " << QString::fromStdString(peerRun->torchVersion)
              << ", same lock, gradient of " << (p.isSet(peerTargetOnly) ? "the target layer only" : "every parameter")
              << "): " << fixed(peerRun->seconds, 3) << " s; ParamLock is "
              << fixed(peerRun->seconds / paperLock->seconds, 2) << "x faster; positions "
              << (identical ? "identical" : "DIFFER") << " (" << samePicks << " of " << paperLock->steps.size()
              << " picks)\n";
    if (endToEndRun) {
        out() << "\nEnd to end, each in its own process (wall time: start, loading, evaluation, the lock, saving):\n"
              << "  paramlock-cli evaluate           " << fixed(endToEndRun->evaluate, 2) << " s\n"
              << "  paramlock-cli lock --mode paper  " << fixed(endToEndRun->lock, 2) << " s\n";
        if (peerRun)
            out() << "  the Python peer, the same        " << fixed(peerRun->wallSeconds, 2) << " s (its lock loop "
                  << fixed(peerRun->seconds, 2) << " s; ParamLock is "
                  << fixed(peerRun->wallSeconds / endToEndRun->lock, 2) << "x faster end to end)\n";
    }
    out().flush();
    return (peerRun && !identical) || !reuseIdentical ? Failed : Ok;
}

} // namespace paramlock::cli
