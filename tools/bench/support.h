#pragma once

// What the benchmark needs beside its measurements: a peak-memory probe in a fresh process, random data for models
// without their dataset, and the Python peer (the same lock written plainly in PyTorch).

#include "advparams.h"
#include "dataset.h"
#include "expected.h"
#include "model.h"

#include <QString>
#include <QStringList>

#include <string>
#include <utility>
#include <vector>

namespace paramlock::cli {

/** The process's peak resident memory so far, in MiB. */
double peakMemoryMiB();

/**
 * Peak memory of the lock above the process with the model and the data loaded, against the bound
 * "3 x the model's size + one batch's activations". One batch's activations are measured, not estimated: the
 * peak of one forward+backward of one chunk, less the model copy and the gradient that pass also holds.
 */
struct MemoryReading
{
    bool valid = false;
    double baseMiB = 0.0; ///< resident with LibTorch, the model and the data loaded
    double modelMiB = 0.0; ///< all parameters, float32
    double gradientMiB = 0.0; ///< the conv/FC weights, which all get a gradient in strong mode
    double batchMiB = 0.0; ///< one chunk's activations (measured)
    double lockMiB = 0.0; ///< the lock's peak above the base
    /** The lock's peak in model sizes, the input model counted, beside one batch's activations. */
    double modelMultiple() const { return (lockMiB - batchMiB) / modelMiB + 1.0; }
};

/**
 * The child's side: peak of one chunk's forward+backward, then peak of a short strong lock (the peak is reached
 * in its first iteration: the copy, every gradient and one chunk's activations; later ones allocate the same).
 */
int probeMemory(const Model &model, const Dataset &de, const std::vector<std::string> &layers, AdvParamsOptions strong);
/** Runs this bench again with --memory-probe in a fresh process and reads its measurement. */
Expected<void> runMemoryProbe(const QStringList &args, MemoryReading &m);

/** Random images of the model's input shape: enough to time models whose dataset is not installed. */
Dataset randomDataset(const ModelMetadata &meta, int64_t count, uint64_t seed);

struct PeerRun
{
    double seconds = 0.0; ///< the lock loop
    double wallSeconds = 0.0; ///< the peer's process, from its start to its exit
    int iterations = 0;
    std::vector<std::pair<std::string, int64_t>> picks;
    std::string torchVersion;
    double accuracyBefore = -1.0, accuracyAfter = -1.0; ///< end to end: on the test images
};

/** What a user's script does around the lock: reads the test split, evaluates before and after, saves the model. */
struct PeerEndToEnd
{
    QString idxFolder; ///< the dataset's IDX files (t10k-images-idx3-ubyte[.gz] and labels)
    int64_t evalSamples = 0; ///< the first N test images; 0: all
};

QString defaultPeerScript();
/** The paramlock-cli beside this bench: the build tree's, or the installed one; empty when neither exists. */
QString defaultCli();
/**
 * Hands the encryption set and settings to the Python peer and reads back its picks. `targetOnly`: the peer asks
 * the gradient of the layer it changes only. With `endToEnd`, it also does what a user's script does around the
 * lock.
 */
Expected<PeerRun> runPeer(const QString &script, const QString &modelPath, const Model &model, const Dataset &de,
    const AdvParamsSettings &settings, const std::vector<std::string> &layers, int batchSize, bool targetOnly,
    const PeerEndToEnd *endToEnd = nullptr);
/** Runs a program to its end and returns its wall time; fails with its last words when it exits non-zero. */
Expected<double> timeCommand(const QString &program, const QStringList &args);

/** The median (of an even count, the mean of the middle two). */
double median(std::vector<double> v);
QString fixed(double v, int decimals);

} // namespace paramlock::cli
