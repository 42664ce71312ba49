#include "support.h"

#include "atomicfile.h"
#include "cliutil.h"
#include "resources.h"
#include "training.h"

#include <nlohmann/json.hpp>

#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QProcessEnvironment>
#include <QTemporaryDir>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <numeric>
#include <random>
#include <sys/resource.h>

namespace paramlock::cli {

using nlohmann::json;

double peakMemoryMiB()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_maxrss) / 1024.0;
}

namespace {

/** A line of /proc/self/status in MiB ("VmRSS", "VmHWM"); -1 where there is none. */
double statusMiB(const char *field)
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1.0;
    const QByteArray prefix = QByteArray(field) + ':';
    for (const QByteArray &line : status.readAll().split('\n'))
        if (line.startsWith(prefix))
            return line.mid(prefix.size()).trimmed().split(' ').first().toDouble() / 1024.0;
    return -1.0;
}

/** Starts a new peak-memory measurement (Linux: the high-water mark drops to the current size). */
bool resetPeakMemory()
{
    QFile clear(QStringLiteral("/proc/self/clear_refs"));
    return clear.open(QIODevice::WriteOnly) && clear.write("5") == 1;
}

} // namespace

/**
 * The child's side: peak of one chunk's forward+backward, then peak of a short strong lock (the peak is reached
 * in its first iteration: the copy, every gradient and one chunk's activations; later ones allocate the same).
 */
int probeMemory(const Model &model, const Dataset &de, const std::vector<std::string> &layers, AdvParamsOptions strong)
{
    MemoryReading m;
    m.baseMiB = statusMiB("VmRSS");
    m.modelMiB = double(model.parameterCount()) * 4.0 / 1048576.0;
    for (const std::string &layer : layers)
        if (auto w = model.weights(layer))
            m.gradientMiB += double(w->size()) * 4.0 / 1048576.0;
    if (m.baseMiB <= 0.0 || !resetPeakMemory())
        return fail("cannot measure memory here (/proc/self/status, /proc/self/clear_refs)");
    std::vector<int64_t> firstChunk(size_t(std::min<int64_t>(strong.settings.chunkSize, de.size())));
    std::iota(firstChunk.begin(), firstChunk.end(), 0);
    if (auto pass = gradientPassSeconds(model, de.subset(firstChunk), layers, strong.settings.chunkSize, 1); !pass)
        return fail(pass.error());
    m.batchMiB = std::max(0.0, statusMiB("VmHWM") - m.baseMiB - m.modelMiB - m.gradientMiB);
    if (!resetPeakMemory())
        return fail("cannot reset the peak memory");
    // As `lock` does with the model it read: in place (this process is thrown away afterwards).
    Progress quiet;
    Model own = model;
    auto locked = lockModelInPlace(own, de, strong, quiet);
    if (!locked)
        return fail(locked.error());
    m.lockMiB = statusMiB("VmHWM") - m.baseMiB;
    const json j = {{"base_mib", m.baseMiB}, {"model_mib", m.modelMiB}, {"gradient_mib", m.gradientMiB},
        {"one_batch_activations_mib", m.batchMiB}, {"lock_peak_above_base_mib", m.lockMiB}};
    out() << QString::fromStdString(j.dump()) << Qt::endl;
    return Ok;
}

/** Runs this bench again with --memory-probe in a fresh process and reads its measurement. */
Expected<void> runMemoryProbe(const QStringList &args, MemoryReading &m)
{
    QStringList childArgs = args.mid(1);
    childArgs.removeAll(QStringLiteral("--peer"));
    childArgs.removeAll(QStringLiteral("--json"));
    childArgs << QStringLiteral("--memory-probe") << QStringLiteral("--quiet");
    QProcess child;
    child.start(QCoreApplication::applicationFilePath(), childArgs);
    if (!child.waitForStarted() || !child.waitForFinished(-1) || child.exitStatus() != QProcess::NormalExit
        || child.exitCode() != 0)
        return Error{"the memory measurement failed: " + child.readAllStandardError().trimmed().toStdString()};
    try {
        const json j = json::parse(child.readAllStandardOutput().toStdString());
        m.baseMiB = j.at("base_mib").get<double>();
        m.modelMiB = j.at("model_mib").get<double>();
        m.gradientMiB = j.at("gradient_mib").get<double>();
        m.batchMiB = j.at("one_batch_activations_mib").get<double>();
        m.lockMiB = j.at("lock_peak_above_base_mib").get<double>();
        m.valid = true;
    } catch (const std::exception &e) {
        return Error{std::string("the memory measurement printed no result: ") + e.what()};
    }
    return {};
}

/** Random images of the model's input shape: enough to time models whose dataset is not installed. */
Dataset randomDataset(const ModelMetadata &meta, int64_t count, uint64_t seed)
{
    Dataset d;
    d.name = "random";
    d.channels = meta.channels;
    d.height = meta.height;
    d.width = meta.width;
    d.classCount = std::max(2, meta.classCount);
    std::mt19937_64 rng(seed);
    d.pixels.resize(size_t(count * d.imageBytes()));
    for (auto &p : d.pixels)
        p = uint8_t(rng() & 0xff);
    for (int64_t i = 0; i < count; ++i)
        d.labels.push_back(int32_t(rng() % uint64_t(d.classCount)));
    return d;
}

QString defaultPeerScript()
{
    const QString here = QString::fromStdString(shippedFile("../tests/bench/peer_advparams.py"));
    return QFileInfo::exists(here) ? here : QString();
}

QString defaultCli()
{
    const QString here = QCoreApplication::applicationDirPath();
    for (const QString &candidate :
        {here + QStringLiteral("/../../app/cli/paramlock-cli"), here + QStringLiteral("/paramlock-cli")})
        if (QFileInfo(candidate).isExecutable())
            return QFileInfo(candidate).canonicalFilePath();
    return QString();
}

Expected<double> timeCommand(const QString &program, const QStringList &args)
{
    QProcess child;
    child.setStandardOutputFile(QProcess::nullDevice()); // its report is not the bench's; stderr is read on failure
    const auto start = std::chrono::steady_clock::now();
    child.start(program, args);
    if (!child.waitForStarted())
        return Error{"cannot start " + program.toStdString()};
    child.waitForFinished(-1);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (child.exitStatus() != QProcess::NormalExit || child.exitCode() != 0)
        return Error{QFileInfo(program).fileName().toStdString() + " " + args.value(0).toStdString()
            + " failed: " + child.readAllStandardError().trimmed().right(600).toStdString()};
    return wall;
}

/** Hands the encryption set and settings to the Python peer and reads back its picks. */
Expected<PeerRun> runPeer(const QString &script, const QString &modelPath, const Model &model, const Dataset &de,
    const AdvParamsSettings &settings, const std::vector<std::string> &layers, int batchSize, bool targetOnly,
    const PeerEndToEnd *endToEnd)
{
    QTemporaryDir dir;
    if (!dir.isValid())
        return Error{"cannot create a temporary folder for the peer"};
    const ModelMetadata &meta = model.metadata();
    json job = {{"model", QFileInfo(modelPath).absoluteFilePath().toStdString()},
        {"metadata", json::parse(meta.toJson())}, {"input_shape", {de.channels, de.height, de.width}},
        {"mean", meta.normalization.mean}, {"std", meta.normalization.std}, {"layers", layers},
        {"batch_size", batchSize}, {"theta", settings.theta}, {"alpha", settings.alpha},
        {"t_loss", settings.lossThreshold}, {"max_iter", settings.maxIterations}, {"threads", threadCount()},
        {"target_only", targetOnly}};
    if (endToEnd)
        job["end_to_end"] = {{"data", endToEnd->idxFolder.toStdString()}, {"eval_samples", endToEnd->evalSamples},
            {"out_model", dir.filePath(QStringLiteral("peer-locked.pt")).toStdString()}};
    std::string labels(de.labels.size() * sizeof(int32_t), '\0');
    std::memcpy(labels.data(), de.labels.data(), labels.size());
    for (const auto &[name, bytes] : {std::pair{"job.json", job.dump(1)},
             std::pair{"de_pixels.bin", std::string(de.pixels.begin(), de.pixels.end())},
             std::pair{"de_labels.bin", labels}})
        if (auto ok = writeFileAtomically(dir.filePath(QLatin1String(name)).toStdString(), bytes); !ok)
            return Error{ok.error()};
    QProcess python;
    // The same BLAS threading as ParamLock's, so that the ratio measures the algorithms, not the thread pools.
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    if (const int blas = blasThreads(); blas > 0)
        env.insert(QStringLiteral("OPENBLAS_NUM_THREADS"), QString::number(blas));
    python.setProcessEnvironment(env);
    const auto start = std::chrono::steady_clock::now();
    python.start(QStringLiteral("/usr/bin/python3"), {script, dir.path()});
    if (!python.waitForStarted())
        return Error{"cannot start /usr/bin/python3 (install python3-torch)"};
    python.waitForFinished(-1);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (python.exitStatus() != QProcess::NormalExit || python.exitCode() != 0)
        return Error{"the Python peer failed: " + python.readAllStandardError().right(600).toStdString()};
    auto text = readWholeFile(dir.filePath(QStringLiteral("peer_result.json")).toStdString());
    if (!text)
        return Error{text.error()};
    const json r = json::parse(*text);
    PeerRun peer;
    peer.seconds = r.at("seconds").get<double>();
    peer.iterations = r.at("iterations").get<int>();
    peer.torchVersion = r.at("torch").get<std::string>();
    peer.wallSeconds = wall;
    peer.accuracyBefore = r.value("accuracy_before", -1.0);
    peer.accuracyAfter = r.value("accuracy_after", -1.0);
    for (const json &p : r.at("picks"))
        peer.picks.emplace_back(p.at(0).get<std::string>(), p.at(1).get<int64_t>());
    return peer;
}

/** The median (of an even count, the mean of the middle two). */
double median(std::vector<double> v)
{
    if (v.empty())
        return 0.0;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

QString fixed(double v, int decimals)
{
    return QString::number(v, 'f', decimals);
}

} // namespace paramlock::cli
