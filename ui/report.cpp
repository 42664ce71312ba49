#include "report.h"

#include "atomicfile.h"
#include "charts.h"
#include "protectionmethod.h"
#include "text.h"
#include "version.h"

#include <QBuffer>
#include <QDateTime>
#include <QFileInfo>
#include <QImage>
#include <QPrinter>
#include <QTextDocument>

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>

namespace paramlock {

namespace {

constexpr int kChartWidth = 900;
constexpr int kChartHeight = 500;

QString esc(const std::string &text)
{
    return QString::fromStdString(text).toHtmlEscaped();
}

QString pct(double fraction)
{
    return fraction < 0.0 ? QStringLiteral("not measured") : percentString(fraction);
}

QImage render(ChartWidget &chart)
{
    chart.resize(kChartWidth, kChartHeight);
    return chart.plot()->toPixmap(kChartWidth, kChartHeight, 1.0).toImage();
}

QByteArray png(const QImage &image)
{
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    image.save(&buffer, "PNG");
    return bytes;
}

QString table(const std::vector<std::string> &columns, const std::vector<std::vector<std::string>> &rows)
{
    QString html = QStringLiteral("<table border=\"1\" cellspacing=\"0\" cellpadding=\"4\"><tr>");
    for (const auto &c : columns)
        html += QStringLiteral("<th>%1</th>").arg(esc(c));
    html += QStringLiteral("</tr>");
    for (const auto &row : rows) {
        html += QStringLiteral("<tr>");
        for (const auto &cell : row)
            html += QStringLiteral("<td>%1</td>").arg(esc(cell));
        html += QStringLiteral("</tr>");
    }
    return html + QStringLiteral("</table>");
}

/** The settings table of a lock, from its method's parameter table: what the key says it was made with. */
std::vector<std::vector<std::string>> settingsRows(const LockResult &r, const ProtectionMethod *method)
{
    std::vector<std::vector<std::string>> rows;
    if (!method)
        return {{"method", r.key.method + " (unknown to this ParamLock)"}};
    rows.push_back({"method", method->name() + (r.key.mode.empty() ? std::string() : ", " + r.key.mode + " mode")});
    auto request = method->requestOf(r.key);
    if (!request)
        return rows;
    for (const ParameterSpec &spec : method->parameters()) {
        const ParameterValue *v = request->values.find(spec.name);
        if (!v || spec.name == "mode" || !spec.usedIn(r.key.mode))
            continue;
        const bool zero = meansZeroSetting(spec, *v);
        std::string text = zero ? spec.zeroMeans : parameterText(spec, *v);
        if (!spec.unit.empty() && !zero)
            text += " " + spec.unit;
        rows.push_back({spec.label, text});
    }
    rows.push_back({"seed", std::to_string(request->seed)});
    rows.push_back({"layers worked on", std::to_string(r.layers.size()) + " conv/FC layers"});
    return rows;
}

/** The help of the key's mode, as the method's parameter table words it. */
std::string modeHelp(const LockResult &r, const ProtectionMethod *method)
{
    if (!method)
        return {};
    if (const ParameterSpec *mode = findParameter(method->parameters(), "mode"))
        for (const ChoiceSpec &c : mode->choices)
            if (c.id == r.key.mode)
                return c.help;
    return method->summary();
}

/** The HTML with each chart's <img src> produced by `source` (a data URI for HTML, a resource name for PDF). */
QString buildHtml(const ReportData &d, const std::function<QString(int)> &source)
{
    const LockResult &r = *d.lock;
    const ProtectionMethod *method = methodById(r.key.method);
    int image = 0;
    auto figure = [&](const QString &caption) {
        const QString html = QStringLiteral("<p align=\"center\"><img src=\"%1\" width=\"%2\"><br><i>%3</i></p>")
                                 .arg(source(image))
                                 .arg(kChartWidth * 3 / 4)
                                 .arg(caption.toHtmlEscaped());
        ++image;
        return html;
    };
    QString h;
    h += QStringLiteral("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>ParamLock report: %1</title>"
                        "<style>body{font-family:sans-serif;max-width:960px;margin:auto;line-height:1.4}"
                        "table{border-collapse:collapse;margin:8px 0}th{background:#eef}td,th{padding:4px 8px}"
                        ".big{font-size:140%}</style></head><body>")
             .arg(d.modelName.toHtmlEscaped());
    h += QStringLiteral("<h1>How strong is this lock? %1</h1>").arg(d.modelName.toHtmlEscaped());
    h += QStringLiteral("<p>Report written by ParamLock %1 on %2. It contains no key material: no positions, no "
                        "perturbations and no original values of the changed weights.</p>")
             .arg(QStringLiteral(PARAMLOCK_VERSION), QDateTime::currentDateTimeUtc().toString(Qt::ISODate));
    h += QStringLiteral("<h2>In short</h2><p class=\"big\">Test accuracy on %1 %2 images: <b>%3</b> before locking, "
                        "<b>%4</b> locked (random guess: %5), <b>%6</b> after unlocking with the key.</p>")
             .arg(d.testSamples)
             .arg(d.datasetName.toHtmlEscaped(), pct(d.accuracyBefore), pct(d.accuracyAfter),
                 pct(1.0 / double(std::max(2, d.original->metadata().classCount))), pct(d.accuracyUnlocked));
    h += QStringLiteral("<p>ParamLock changed <b>%1</b> of the model's %2 parameters (%3). A model file copied "
                        "without the secret key behaves like the locked model; the key restores the original bit "
                        "for bit. %4</p>")
             .arg(r.encryptedCount())
             .arg(r.key.parameterCount)
             .arg(percentString(double(r.encryptedCount()) / double(std::max<int64_t>(1, r.key.parameterCount)), 5))
             .arg(esc(modeHelp(r, method)));
    for (const Analysis &a : d.analyses)
        if (!a.verdict.empty())
            h += QStringLiteral("<p class=\"big\"><b>Protection level.</b> %1</p>").arg(esc(a.verdict));
    h += QStringLiteral("<h2>The lock</h2>");
    std::vector<std::vector<std::string>> settings = settingsRows(r, method);
    settings.push_back({"lock time", fixedText(r.seconds, 2) + " s, " + std::to_string(r.iterations) + " iterations"});
    settings.push_back({"why it stopped", r.stopReason});
    settings.push_back({"original model fingerprint (SHA-256)", r.key.originalFingerprint});
    settings.push_back({"locked model fingerprint (SHA-256)", r.key.lockedFingerprint});
    h += table({"setting", "value"}, settings);

    // What the figures show is measured, not promised: a method may move weights out of their layer's range.
    int64_t outside = 0;
    double largestStdChange = 0.0;
    for (const LayerLockReport &l : r.layers) {
        for (float v : l.after)
            outside += (v < l.min || v > l.max) ? 1 : 0;
        if (!l.positions.empty() && l.stdBefore > 0.0)
            largestStdChange = std::max(largestStdChange, std::abs(l.stdAfter - l.stdBefore) / l.stdBefore);
    }
    if (outside == 0 && largestStdChange < 0.01) {
        h += QStringLiteral("<h2>Invisible in the weights</h2><p>An attacker who inspects the locked file sees "
                            "weights that look like the original's: every changed weight lies inside its layer's "
                            "usual range (first figure), and the distribution of all weights does not move (second "
                            "figure; no layer's std changes by more than %1 of itself).</p>")
                 .arg(percentString(largestStdChange, 2));
        h += figure(QStringLiteral("Every changed weight inside its layer's range (the paper's Fig. 3)."));
    } else {
        h += QStringLiteral("<h2>What the weights give away</h2><p>An attacker who inspects the locked file can "
                            "notice the lock: %1 of the %2 changed weights lie outside their own layer's range "
                            "(first figure), and a layer's standard deviation changes by up to %3 of itself (table "
                            "below).</p>")
                 .arg(outside)
                 .arg(r.encryptedCount())
                 .arg(percentString(largestStdChange, 1));
        h += figure(QStringLiteral("The changed weights and their layer's range (the paper's Fig. 3)."));
    }
    h += figure(QStringLiteral("All conv/FC weights before and after locking (the paper's Fig. 4)."));
    std::vector<std::vector<std::string>> stealth;
    for (const LayerLockReport &l : r.layers) {
        if (l.positions.empty())
            continue;
        const double std0 = l.stdBefore > 0.0 ? l.stdBefore : 1.0;
        stealth.push_back({l.layer, std::to_string(l.positions.size()), fixedText(l.meanBefore, 6),
            percentText((l.meanAfter - l.meanBefore) / std0, 4), fixedText(l.stdBefore, 6),
            percentText((l.stdAfter - l.stdBefore) / std0, 4)});
    }
    h += table({"layer", "changed weights", "mean", "mean change (of std)", "std", "std change (of std)"}, stealth);

    if (!d.analyses.empty())
        h += QStringLiteral("<h2>Attacks and experiments</h2><p>Each attack below is run on the locked model by "
                            "someone who does not have the key. The lower the accuracy it gets back, the stronger "
                            "the lock.</p>");
    for (const Analysis &a : d.analyses) {
        h += QStringLiteral("<h3>%1</h3>").arg(esc(a.title));
        if (!a.verdict.empty())
            h += QStringLiteral("<p><b>%1</b></p>").arg(esc(a.verdict));
        h += QStringLiteral("<p>%1</p>").arg(esc(a.explanation));
        h += figure(QString::fromStdString(a.title));
        h += table(a.columns, a.rows);
        h += QStringLiteral("<p><small>Computed in %1 s.</small></p>").arg(a.seconds, 0, 'f', 1);
    }
    h += QStringLiteral("<hr><p><small>Method: %1. Accuracies are measured on the test split; attackers hold %2 of "
                        "it and are scored on the rest.</small></p></body></html>")
             .arg(method ? esc(method->citation()) : esc(r.key.method), QStringLiteral("10%"));
    return h;
}

std::vector<QImage> renderCharts(const ReportData &d)
{
    std::vector<QImage> images;
    WeightRangeChart ranges;
    ranges.setData(d.lock->layers);
    images.push_back(render(ranges));
    WeightHistogramChart histogram(QObject::tr("All conv/FC weights before and after locking"));
    histogram.setData(allWeights(*d.original), allWeights(d.lock->locked));
    images.push_back(render(histogram));
    for (const Analysis &a : d.analyses) {
        AnalysisChart chart;
        chart.setAnalysis(a);
        images.push_back(render(chart));
    }
    return images;
}

} // namespace

std::vector<float> allWeights(const Model &model)
{
    std::vector<float> values;
    for (const std::string &name : model.layerNames()) {
        auto w = model.weights(name);
        if (w)
            values.insert(values.end(), w->begin(), w->end());
    }
    return values;
}

namespace {
QString withEmbeddedImages(const ReportData &data, const std::vector<QImage> &images)
{
    return buildHtml(data, [&](int i) {
        return QStringLiteral("data:image/png;base64,") + QString::fromLatin1(png(images[size_t(i)]).toBase64());
    });
}
} // namespace

Expected<void> writeReport(const ReportData &data, const QString &htmlPath, const QString &pdfPath)
{
    if (!data.lock || !data.original)
        return Error{"nothing to report: lock a model first"};
    const std::vector<QImage> images = renderCharts(data);
    if (auto ok = writeFileAtomically(htmlPath.toStdString(), withEmbeddedImages(data, images).toStdString()); !ok)
        return ok;
    if (pdfPath.isEmpty())
        return {};
    // Qt's rich text does not read data URIs: the PDF's images are document resources.
    QTextDocument document;
    for (size_t i = 0; i < images.size(); ++i)
        document.addResource(QTextDocument::ImageResource, QUrl(QStringLiteral("chart%1.png").arg(i)), images[i]);
    document.setHtml(buildHtml(data, [](int i) { return QStringLiteral("chart%1.png").arg(i); }));
    const QString temporary = pdfPath + QStringLiteral(".part");
    QPrinter printer(QPrinter::HighResolution);
    printer.setOutputFormat(QPrinter::PdfFormat);
    printer.setPageSize(QPageSize(QPageSize::A4));
    printer.setDocName(QStringLiteral("ParamLock report: ") + data.modelName);
    printer.setOutputFileName(temporary);
    document.print(&printer);
    if (!QFileInfo(temporary).isFile() || QFileInfo(temporary).size() == 0) {
        QFile::remove(temporary);
        return Error{"cannot write the PDF " + pdfPath.toStdString()};
    }
    if (std::rename(temporary.toLocal8Bit().constData(), pdfPath.toLocal8Bit().constData()) != 0) {
        QFile::remove(temporary);
        return Error{"cannot write the PDF " + pdfPath.toStdString()};
    }
    return {};
}

} // namespace paramlock
