#include "cliutil.h"

#include "text.h"

#include <csignal>

namespace paramlock::cli {

QTextStream &out()
{
    static QTextStream s(stdout);
    return s;
}

QTextStream &err()
{
    static QTextStream s(stderr);
    return s;
}

int fail(const std::string &message, int code)
{
    out().flush();
    err() << "error: " << QString::fromStdString(message) << Qt::endl;
    return code;
}

namespace {
CliProgress *g_activeProgress = nullptr;
volatile std::sig_atomic_t g_writing = 0;
volatile std::sig_atomic_t g_interruptedWhileWriting = 0;

// Ctrl-C cancels the running job, which then reports and exits; between jobs nothing has been written yet
// (outputs are written atomically at the very end), so the process can leave at once.
extern "C" void onInterrupt(int)
{
    if (g_writing) { // never leave a key without its model: finish writing first
        g_interruptedWhileWriting = 1;
        return;
    }
    if (g_activeProgress) {
        g_activeProgress->cancel();
        return;
    }
    static const char message[] = "\nerror: cancelled; nothing was written\n";
    (void)!::write(STDERR_FILENO, message, sizeof(message) - 1);
    ::_exit(Cancelled);
}
} // namespace

void installInterruptHandler()
{
    std::signal(SIGINT, onInterrupt);
}

WritingScope::WritingScope()
{
    g_writing = 1;
}

WritingScope::~WritingScope()
{
    g_writing = 0;
    if (g_interruptedWhileWriting)
        err() << "warning: interrupted while writing the outputs; they were completed" << Qt::endl;
    g_interruptedWhileWriting = 0;
}

ProgressScope::ProgressScope(CliProgress &p)
{
    g_activeProgress = &p;
}

ProgressScope::~ProgressScope()
{
    g_activeProgress = nullptr;
}

// ---- option helpers -----------------------------------------------------------

bool parse(QCommandLineParser &parser, const QStringList &args, const QString &description,
    const QList<QCommandLineOption> &options, int &exitCode, bool allowPositional)
{
    parser.setApplicationDescription(description);
    parser.addHelpOption();
    parser.addOptions(options);
    if (!parser.parse(args)) {
        exitCode = fail(parser.errorText().toStdString() + " (see --help)", Usage);
        return false;
    }
    if (parser.isSet(QStringLiteral("help"))) {
        out() << parser.helpText();
        exitCode = Ok;
        return false;
    }
    if (!allowPositional && !parser.positionalArguments().isEmpty()) {
        exitCode =
            fail("unexpected argument " + parser.positionalArguments().first().toStdString() + " (see --help)", Usage);
        return false;
    }
    return true;
}

bool toInt64(const QString &text, int64_t &value)
{
    bool ok = false;
    value = text.toLongLong(&ok);
    return ok;
}

std::optional<std::string> number(const QCommandLineParser &p, const QCommandLineOption &o, double &value)
{
    if (!p.isSet(o))
        return std::nullopt;
    bool ok = false;
    value = p.value(o).toDouble(&ok);
    if (!ok)
        return "--" + o.names().last().toStdString() + " expects a number, got \"" + p.value(o).toStdString() + "\"";
    return std::nullopt;
}

std::optional<std::string> integer(const QCommandLineParser &p, const QCommandLineOption &o, int64_t &value)
{
    if (!p.isSet(o) && o.defaultValues().isEmpty())
        return std::nullopt;
    if (!toInt64(p.value(o), value))
        return "--" + o.names().last().toStdString() + " expects a whole number, got \"" + p.value(o).toStdString()
            + "\"";
    return std::nullopt;
}

Expected<std::vector<float>> floatList(const QString &text, const char *flag)
{
    std::vector<float> values;
    for (const QString &part : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        bool ok = false;
        values.push_back(part.trimmed().toFloat(&ok));
        if (!ok)
            return Error{
                std::string("--") + flag + " expects comma-separated numbers, got \"" + text.toStdString() + "\""};
    }
    return values;
}

void applyThreads(const QCommandLineParser &p)
{
    int64_t threads = 0;
    if (!integer(p, kThreads, threads))
        configureThreads(int(threads));
}

Expected<Model> openModel(const QCommandLineParser &p)
{
    if (!p.isSet(kModel))
        return Error{"--model is required"};
    return Model::load(p.value(kModel).toStdString());
}

/** Fills in what a model without metadata lacks, from the flags and the dataset. */
Expected<void> completeMetadata(Model &model, const QCommandLineParser &p, const Dataset *data)
{
    ModelMetadata meta = model.metadata();
    if (p.isSet(kInputMean)) {
        auto v = floatList(p.value(kInputMean), "input-mean");
        if (!v)
            return Error{v.error()};
        meta.normalization.mean = *v;
    }
    if (p.isSet(kInputStd)) {
        auto v = floatList(p.value(kInputStd), "input-std");
        if (!v)
            return Error{v.error()};
        for (float s : *v)
            if (!(s > 0.0f))
                return Error{"--input-std values must be positive"};
        meta.normalization.std = *v;
    }
    if (p.isSet(kNumClasses)) {
        int64_t n = 0;
        if (!toInt64(p.value(kNumClasses), n) || n < 2)
            return Error{"--num-classes expects a whole number >= 2"};
        meta.classCount = int(n);
    }
    if (data) {
        if (!meta.hasInputShape()) {
            meta.channels = data->channels;
            meta.height = data->height;
            meta.width = data->width;
        }
        if (meta.classCount == 0)
            meta.classCount = data->classCount;
        if (meta.classNames.empty())
            meta.classNames = data->classNames;
        if (meta.dataset.empty())
            meta.dataset = data->name;
    }
    model.setMetadata(meta);
    return {};
}

Expected<Dataset> openData(const QCommandLineParser &p, Split split, CliProgress &progress)
{
    if (!p.isSet(kData))
        return Error{"--data is required"};
    progress.advance(0.0, split == Split::Train ? "reading the training split" : "reading the test split");
    auto data = loadDataset(p.value(kData).toStdString(), split);
    progress.finish();
    return data;
}

std::optional<LockInputs> openLockInputs(const QCommandLineParser &p, CliProgress &progress, int &exitCode)
{
    auto model = openModel(p);
    if (!model) {
        exitCode = fail(model.error());
        return std::nullopt;
    }
    auto train = openData(p, Split::Train, progress);
    auto test = train ? openData(p, Split::Test, progress) : Expected<Dataset>(Error{train.error()});
    if (!test) {
        exitCode = fail(test.error());
        return std::nullopt;
    }
    if (auto ok = completeMetadata(*model, p, &*train); !ok) {
        exitCode = fail(ok.error(), Usage);
        return std::nullopt;
    }
    return LockInputs{std::move(*model), std::move(*train), std::move(*test)};
}

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

WorkflowOptions workflowOptions(const QCommandLineParser &p, int64_t evalLimit)
{
    WorkflowOptions options;
    options.evalLimit = evalLimit;
    options.allowUntrained = p.isSet(kAllowUntrained);
    options.allowUntrainedHint = "pass --allow-untrained";
    return options;
}

QString joined(const std::vector<std::string> &items)
{
    QStringList list;
    for (const auto &s : items)
        list << QString::fromStdString(s);
    return list.join(QStringLiteral(", "));
}

Expected<void> applyGrid(const QCommandLineParser &p, AdvantageOptions &options)
{
    options.grid = p.value(kGrid).toStdString();
    if (options.grid == "full")
        options.settings = AdvantageOptions::fineSettings();
    else if (options.grid != "quick" && options.grid != "halving")
        return Error{"--grid must be halving, quick or full"};
    int64_t selection = 0;
    if (auto e = integer(p, kSelectionImages, selection))
        return Error{*e};
    if (selection < 0)
        return Error{"--selection-images must be 0 (compare on every scored image) or more"};
    options.selectionImages = selection;
    if (p.isSet(kSettings)) {
        options.settings.clear();
        for (const QString &item : p.value(kSettings).split(QLatin1Char(','), Qt::SkipEmptyParts)) {
            const QStringList parts = item.trimmed().split(QLatin1Char(':'));
            bool ok = false;
            const double rate = parts.size() == 2 ? parts[1].toDouble(&ok) : 0.0;
            const QString optimizer = parts.value(0).toLower();
            if (!ok || !(rate > 0.0) || (optimizer != QLatin1String("sgd") && optimizer != QLatin1String("adam")))
                return Error{"--settings takes OPTIMIZER:LEARNING_RATE items, e.g. sgd:0.01,adam:0.001 (got \""
                    + item.toStdString() + "\")"};
            options.settings.push_back({optimizer.toStdString(), rate});
        }
        if (options.settings.empty())
            return Error{"--settings needs at least one OPTIMIZER:LEARNING_RATE item, e.g. adam:0.001"};
    }
    if (p.isSet(kWithoutOriginal))
        options.includeOriginal = false;
    return {};
}

int runSubcommand(
    const QString &command, const QStringList &args, const std::vector<Subcommand> &actions, const QString &usage)
{
    const QString action = args.size() > 1 ? args.at(1) : QString();
    QStringList rest = args;
    if (rest.size() > 1) {
        rest.removeAt(1);
        rest[0] += QLatin1Char(' ') + action;
    }
    QStringList names;
    for (const Subcommand &a : actions) {
        if (action == QLatin1String(a.name))
            return a.run(rest);
        names << QLatin1String(a.name);
    }
    if (action == QLatin1String("--help") || action == QLatin1String("-h")) {
        out() << usage;
        out().flush();
        return Ok;
    }
    return fail(QStringLiteral("'%1' needs an action: %2 (see 'paramlock-cli %1 --help')")
                    .arg(command, names.join(QStringLiteral(", ")))
                    .toStdString(),
        Usage);
}

ParameterFlags::ParameterFlags(const ProtectionMethod &m) : method(m)
{
    for (const ParameterSpec &spec : method.parameters())
        options.push_back(QCommandLineOption(QString::fromStdString(spec.name),
            QString::fromStdString(spec.help + " (default "
                + (meansZeroSetting(spec, spec.defaultValue) ? spec.zeroMeans : parameterText(spec, spec.defaultValue))
                + ")"),
            QStringLiteral("X")));
}

Expected<ParameterValues> ParameterFlags::read(const QCommandLineParser &p) const
{
    ParameterValues values;
    const auto &specs = method.parameters();
    for (size_t i = 0; i < specs.size(); ++i)
        if (p.isSet(options[int(i)])) {
            auto v = parseParameter(specs[i], p.value(options[int(i)]).toStdString());
            if (!v)
                return Error{v.error()};
            values.set(specs[i].name, *v);
        }
    return values;
}

} // namespace paramlock::cli
