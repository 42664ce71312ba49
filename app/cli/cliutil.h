#pragma once

// What every paramlock-cli command shares: output streams, exit codes, option parsing, progress.

#include "dataset.h"
#include "lockworkflow.h"
#include "expected.h"
#include "model.h"
#include "progress.h"
#include "text.h"

#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QTextStream>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

namespace paramlock::cli {

enum ExitCode { Ok = 0, Failed = 1, Usage = 2, Cancelled = 130 };

QTextStream &out();
QTextStream &err();
/** Prints "error: message" on stderr and returns the exit code. */
int fail(const std::string &message, int code = Failed);

// ---- progress on stderr, Ctrl-C cancels -------------------------------------

class CliProgress : public Progress
{
public:
    explicit CliProgress(bool quiet) : m_quiet(quiet), m_tty(isatty(STDERR_FILENO) != 0) { }
    ~CliProgress() override { finish(); }

    bool advance(double fraction, const std::string &label) override
    {
        if (m_quiet)
            return !cancelled();
        const auto now = std::chrono::steady_clock::now();
        const int percent = int(fraction * 100.0 + 0.5);
        const bool changedLabel = label != m_label;
        if (m_tty) {
            if (now - m_last > std::chrono::milliseconds(200) || percent == 100 || changedLabel) {
                err() << "\r[" << qSetFieldWidth(3) << percent << qSetFieldWidth(0) << "%] "
                      << QString::fromStdString(label) << "\x1b[K";
                err().flush();
                m_last = now;
                m_open = true;
            }
        } else if (changedLabel) {
            // Logs get one line per stage, not a stream of percentages.
            err() << "[" << percent << "%] " << QString::fromStdString(label) << Qt::endl;
        }
        m_label = label;
        return !cancelled();
    }

    void finish()
    {
        if (m_open) {
            err() << "\r\x1b[K";
            err().flush();
            m_open = false;
        }
        m_label.clear();
    }

private:
    bool m_quiet;
    bool m_tty;
    bool m_open = false;
    std::string m_label;
    std::chrono::steady_clock::time_point m_last{};
};

/** Ctrl-C cancels the active job (see ProgressScope) or, between jobs, exits with 130. */
void installInterruptHandler();

/** While alive, Ctrl-C is held back until the outputs are written (a key is never left without its model). */
struct WritingScope
{
    WritingScope();
    ~WritingScope();
    WritingScope(const WritingScope &) = delete;
    WritingScope &operator=(const WritingScope &) = delete;
};

/** While alive, Ctrl-C cancels `p`. */
struct ProgressScope
{
    explicit ProgressScope(CliProgress &p);
    ~ProgressScope();
    ProgressScope(const ProgressScope &) = delete;
    ProgressScope &operator=(const ProgressScope &) = delete;
};

// ---- options every command may use ------------------------------------------------

inline const QCommandLineOption kModel({QStringLiteral("m"), QStringLiteral("model")},
    QStringLiteral("Model file (TorchScript or ParamLock zoo checkpoint)."), QStringLiteral("FILE"));
inline const QCommandLineOption kData({QStringLiteral("d"), QStringLiteral("data")},
    QStringLiteral(
        "Dataset folder (IDX, CIFAR-10 binary, GTSRB, image folder) or 'fashion-mnist' for the Debian package's copy."),
    QStringLiteral("PATH"));
inline const QCommandLineOption kSeed(
    QStringLiteral("seed"), QStringLiteral("Random seed (default 0)."), QStringLiteral("N"), QStringLiteral("0"));
inline const QCommandLineOption kInputMean(QStringLiteral("input-mean"),
    QStringLiteral("Per-channel input mean for models without ParamLock metadata, comma-separated (default: none)."),
    QStringLiteral("LIST"));
inline const QCommandLineOption kInputStd(QStringLiteral("input-std"),
    QStringLiteral("Per-channel input std for models without ParamLock metadata, comma-separated (default: none)."),
    QStringLiteral("LIST"));
inline const QCommandLineOption kNumClasses(QStringLiteral("num-classes"),
    QStringLiteral("Class count for models without ParamLock metadata (default: the dataset's)."), QStringLiteral("N"));
inline const QCommandLineOption kJson(QStringLiteral("json"), QStringLiteral("Print one JSON object on stdout."));
inline const QCommandLineOption kCsv(QStringLiteral("csv"), QStringLiteral("Print the results as CSV on stdout."));
inline const QCommandLineOption kQuiet(
    {QStringLiteral("q"), QStringLiteral("quiet")}, QStringLiteral("No progress on stderr."));
inline const QCommandLineOption kThreads(QStringLiteral("threads"),
    QStringLiteral("CPU threads (default: the cores other processes leave free, measured at start)."),
    QStringLiteral("N"), QStringLiteral("0"));
inline const QCommandLineOption kKey(
    {QStringLiteral("k"), QStringLiteral("key")}, QStringLiteral("Secret key file."), QStringLiteral("FILE"));
inline const QCommandLineOption kAllowWeak(QStringLiteral("allow-weak"),
    QStringLiteral("Keep a lock that did not reach its target or still scores above 1.2 x random guess (refused by "
                   "default)."));
inline const QCommandLineOption kAllowUntrained(QStringLiteral("allow-untrained"),
    QStringLiteral("Lock a model that scores no better than 1.5 x random guess (usually an untrained model, or the "
                   "wrong dataset or normalisation; refused by default)."));
inline const QCommandLineOption kEvalSamples(QStringLiteral("eval-samples"),
    QStringLiteral("Evaluate on the first N test images only (default: all)."), QStringLiteral("N"),
    QStringLiteral("0"));

/** Parses a command's options; false with `exitCode` set on errors and --help. */
bool parse(QCommandLineParser &parser, const QStringList &args, const QString &description,
    const QList<QCommandLineOption> &options, int &exitCode, bool allowPositional = false);
bool toInt64(const QString &text, int64_t &value);
std::optional<std::string> number(const QCommandLineParser &p, const QCommandLineOption &o, double &value);
std::optional<std::string> integer(const QCommandLineParser &p, const QCommandLineOption &o, int64_t &value);
Expected<std::vector<float>> floatList(const QString &text, const char *flag);
void applyThreads(const QCommandLineParser &p);
Expected<Model> openModel(const QCommandLineParser &p);
/** Fills in what a model without metadata lacks, from the flags and the dataset. */
Expected<void> completeMetadata(Model &model, const QCommandLineParser &p, const Dataset *data);
Expected<Dataset> openData(const QCommandLineParser &p, Split split, CliProgress &progress);
/** What lock-like commands read: --model, both splits of --data, and the metadata the data implies. */
struct LockInputs
{
    Model model;
    Dataset train;
    Dataset test;
};
/** Reads them; on failure prints the error, sets `exitCode` and returns nothing. */
std::optional<LockInputs> openLockInputs(const QCommandLineParser &p, CliProgress &progress, int &exitCode);

/** One flag per parameter of a method that is used outside the lock flags (licences, fingerprints), from its table. */
struct ParameterFlags
{
    explicit ParameterFlags(const ProtectionMethod &method);
    /** The values set on the command line (the rest stay at their defaults); errors name the flag. */
    Expected<ParameterValues> read(const QCommandLineParser &p) const;
    QList<QCommandLineOption> options;
    const ProtectionMethod &method;
};

/** The advantage analysis's sweep: --grid halving|quick|full, --steps N, --selection-images N (attack --kind
 * advantage, frontier). */
inline const QCommandLineOption kGrid(QStringLiteral("grid"),
    QStringLiteral("Advantage: halving (every learning rate at one k by successive halving, each curve's best reused "
                   "at the other k), quick (every learning rate trained to the end at that k) or full (the finer grid "
                   "at every k). Default halving."),
    QStringLiteral("NAME"), QStringLiteral("halving"));
inline const QCommandLineOption kSelectionImages(QStringLiteral("selection-images"),
    QStringLiteral("Advantage: compare checkpoints and settings on the first N scored test images, then score each "
                   "curve's winner on all of them (default %1; 0: compare on all).")
        .arg(AdvantageOptions{}.selectionImages),
    QStringLiteral("N"), QString::number(AdvantageOptions{}.selectionImages));
inline const QCommandLineOption kSteps(QStringLiteral("steps"),
    QStringLiteral("Advantage: optimiser steps per training run (default %1; epochs = steps x batch / k, %2-%3).")
        .arg(AdvantageOptions{}.steps)
        .arg(AdvantageOptions{}.minEpochs)
        .arg(AdvantageOptions{}.maxEpochs),
    QStringLiteral("N"), QString::number(AdvantageOptions{}.steps));
inline const QCommandLineOption kSettings(QStringLiteral("settings"),
    QStringLiteral("Advantage: sweep these settings instead of the grid's, e.g. sgd:0.01,adam:0.001 (SGD has momentum "
                   "0.9)."),
    QStringLiteral("LIST"));
inline const QCommandLineOption kWithoutOriginal(QStringLiteral("without-original"),
    QStringLiteral("Advantage: do not fine-tune the unlocked original (A_orig, the ceiling): a third less work; the "
                   "original's own accuracy stays the reference."));
/** Sets the sweep from --grid, --settings, --selection-images and --without-original. */
Expected<void> applyGrid(const QCommandLineParser &p, AdvantageOptions &options);

/** A comma-separated list of numbers, e.g. --rates 0,0.1,0.5. */
Expected<std::vector<double>> numberList(const QString &text, const char *flag);
/** The lock workflow's options the flags set: --eval-samples (already read) and --allow-untrained. */
WorkflowOptions workflowOptions(const QCommandLineParser &p, int64_t evalLimit);

QString joined(const std::vector<std::string> &items);

/** Password stretching for sealed files (lock, key issue, licence lock/issue/rekey). */
inline const QCommandLineOption kKdf(QStringLiteral("kdf"),
    QStringLiteral("Password stretching: interactive, moderate (default) or sensitive."), QStringLiteral("LEVEL"),
    QStringLiteral("moderate"));

/** One action of a command with actions ("key info", "licence lock"). */
struct Subcommand
{
    const char *name;
    int (*run)(const QStringList &);
};

/**
 * Runs the action `args[1]` names, with the action joined to the program name in `args[0]` for its messages; prints
 * `usage` for --help, and refuses a missing or unknown action naming `command` and the actions.
 */
int runSubcommand(
    const QString &command, const QStringList &args, const std::vector<Subcommand> &actions, const QString &usage);

} // namespace paramlock::cli
