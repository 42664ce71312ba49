#include "commands.h"

#include "cliutil.h"
#include "lockoutput.h"
#include "methodflags.h"

#include "analysis.h"
#include "atomicfile.h"
#include "report.h"

#include <QFileInfo>
#include <QRegularExpression>

namespace paramlock::cli {

int cmdReport(const QStringList &args)
{
    const MethodFlags flags;
    const QCommandLineOption outFile({QStringLiteral("o"), QStringLiteral("out")},
        QStringLiteral("The HTML report to write (a PDF of it is written beside it)."), QStringLiteral("FILE"));
    const QCommandLineOption pdfFile(QStringLiteral("pdf"),
        QStringLiteral("Where to write the PDF (default: the HTML's name with .pdf)."), QStringLiteral("FILE"));
    const QCommandLineOption analyses(QStringLiteral("analyses"),
        QStringLiteral("Comma-separated analyses (default: those each method puts in its report; the list is in "
                       "'attack --help' and the report's own sections)."),
        QStringLiteral("LIST"));
    const QCommandLineOption epochs(QStringLiteral("epochs"),
        QStringLiteral("Fine-tuning attack epochs (default 10; the paper: 100)."), QStringLiteral("N"),
        QStringLiteral("10"));
    QCommandLineParser p;
    int code = Usage;
    QList<QCommandLineOption> options = {kModel, kData, kSeed, kInputMean, kInputStd, kNumClasses, kEvalSamples,
        kThreads, kQuiet, kAllowUntrained, outFile, pdfFile, analyses, epochs};
    options += flags.options();
    if (!parse(p, args,
            QStringLiteral("Locks a model in memory, runs the attacks and experiments on the lock and writes one "
                           "self-contained HTML report and a PDF of it: accuracies, settings, fingerprints, the "
                           "stealth figures, attack curves and tables. No model or key is written."),
            options, code))
        return code;
    applyThreads(p);
    if (!p.isSet(outFile))
        return fail("--out is required (the HTML report to write)", Usage);
    auto choice = flags.read(p);
    if (!choice)
        return fail(choice.error(), Usage);
    int64_t evalLimit = 0, epochCount = 10;
    if (auto e = integer(p, kEvalSamples, evalLimit))
        return fail(*e, Usage);
    if (auto e = integer(p, epochs, epochCount))
        return fail(*e, Usage);
    std::vector<std::string> kinds;
    const std::vector<std::string> known = analysisKinds(choice->method->id());
    if (p.isSet(analyses)) {
        for (const QString &k : p.value(analyses).split(QLatin1Char(','), Qt::SkipEmptyParts)) {
            if (std::find(known.begin(), known.end(), k.trimmed().toStdString()) == known.end())
                return fail("unknown analysis \"" + k.toStdString()
                        + "\" in --analyses (available: " + joined(known).toStdString() + ")",
                    Usage);
            kinds.push_back(k.trimmed().toStdString());
        }
    } else {
        for (const AnalysisSpec &spec : analysisSpecs(choice->method->id()))
            if (spec.inReport)
                kinds.push_back(spec.kind);
    }
    const QString html = p.value(outFile);
    QString pdf = p.value(pdfFile);
    if (pdf.isEmpty()) {
        pdf = html;
        pdf.replace(
            QRegularExpression(QStringLiteral("\\.html?$"), QRegularExpression::CaseInsensitiveOption), QString());
        pdf += QStringLiteral(".pdf");
    }
    const DemoOptions demo = demoOptions();
    const QString modelPath = p.isSet(kModel) ? p.value(kModel) : QString::fromStdString(demo.modelPath);
    for (const QString &o : {html, pdf})
        if (samePath(o.toStdString(), modelPath.toStdString()))
            return fail("refusing to overwrite the input model; choose another --out", Usage);
    auto model = Model::load(modelPath.toStdString());
    if (!model)
        return fail(model.error());
    CliProgress progress(p.isSet(kQuiet));
    const std::string dataPath = p.isSet(kData) ? p.value(kData).toStdString() : demo.dataset;
    progress.advance(0.0, "reading " + dataPath);
    auto train = loadDataset(dataPath, Split::Train);
    auto test = train ? loadDataset(dataPath, Split::Test) : Expected<Dataset>(Error{train.error()});
    progress.finish();
    if (!test)
        return fail(test.error());
    if (auto ok = completeMetadata(*model, p, &*train); !ok)
        return fail(ok.error(), Usage);
    auto outcome = lockWithProgress(*model, *train, *test, *choice, workflowOptions(p, evalLimit), progress);
    if (!outcome)
        return fail(outcome.error(), progress.cancelled() ? Cancelled : Failed);
    warnWeak(*outcome, QStringLiteral("the report shows it as it is"));

    ReportData data;
    data.modelName = QFileInfo(modelPath).fileName();
    data.datasetName = QString::fromStdString(test->name);
    data.original = &*model;
    data.lock = &outcome->result;
    data.accuracyBefore = outcome->accuracyBefore;
    data.accuracyAfter = outcome->accuracyAfter;
    data.accuracyUnlocked = outcome->accuracyBefore; // verified bit for bit by the lock itself
    data.testSamples = outcome->testSamples;
    const Dataset sample = lockSample(*outcome, *train);
    AnalysisContext context;
    context.original = &*model;
    context.lock = &outcome->result;
    context.encryptionSet = &sample;
    context.test = &*test;
    context.evalLimit = evalLimit;
    context.fineTuneEpochs = int(epochCount);
    context.seed = outcome->request.seed;
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
    out() << "Locked " << percentString(outcome->accuracyBefore) << " -> " << percentString(outcome->accuracyAfter)
          << " with " << outcome->result.encryptedCount() << " weights; wrote " << html << " and " << pdf << Qt::endl;
    return Ok;
}

} // namespace paramlock::cli
