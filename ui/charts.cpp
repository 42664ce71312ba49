#include "charts.h"

#include <qcustomplot.h>

#include <algorithm>
#include <cmath>

namespace paramlock {

namespace {
const QColor kBefore(31, 119, 180);
const QColor kAfter(214, 39, 40);
const QColor kAccent(44, 160, 44);
} // namespace

// ---- LossChart ----------------------------------------------------------------

LossChart::LossChart(QWidget *parent) : ChartWidget(tr("Encryption-set loss while locking"), parent)
{
    // Log scale: the loss starts near 0.1 and the paper's threshold is 15.
    plot()->yAxis->setScaleType(QCPAxis::stLogarithmic);
    plot()->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    plot()->yAxis->setNumberFormat(QStringLiteral("gb"));
    start(LockChartSpec{});
}

void LossChart::start(const LockChartSpec &spec)
{
    m_steps.clear();
    m_markers = 0;
    m_target = -1.0;
    setTitle(QString::fromStdString(spec.title));
    plot()->xAxis->setLabel(QString::fromStdString(spec.xLabel));
    plot()->yAxis->setLabel(tr("%1 (log scale)").arg(QString::fromStdString(spec.yLabel)));
    plot()->clearGraphs();
    plot()->clearItems();
    const bool showThreshold = spec.threshold > 0.0;
    QCPGraph *loss = plot()->addGraph();
    loss->setName(tr("loss on the lock's own data"));
    loss->setPen(QPen(kBefore, 2));
    loss->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 4));
    QCPGraph *threshold = plot()->addGraph();
    threshold->setName(showThreshold
            ? tr("%1 = %2").arg(QString::fromStdString(spec.thresholdLabel)).arg(spec.threshold)
            : tr("next stage (layer)"));
    threshold->setPen(showThreshold ? QPen(kAfter, 1.5, Qt::DashLine) : QPen(Qt::gray, 1, Qt::DotLine));
    if (showThreshold) {
        auto *line = new QCPItemStraightLine(plot());
        line->point1->setCoords(0, spec.threshold);
        line->point2->setCoords(1, spec.threshold);
        line->setPen(threshold->pen());
    }
    m_accuracy = nullptr;
    plot()->yAxis2->setVisible(!spec.accuracyLabel.empty());
    if (!spec.accuracyLabel.empty()) {
        // The method measures an accuracy per step (NNSplitter: the validation split's per epoch): on its own axis.
        threshold->removeFromLegend();
        m_accuracy = plot()->addGraph(plot()->xAxis, plot()->yAxis2);
        m_accuracy->setName(QString::fromStdString(spec.accuracyLabel));
        m_accuracy->setPen(QPen(kAccent, 2));
        m_accuracy->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssSquare, 5));
        plot()->yAxis2->setLabel(tr("%1 (%)").arg(QString::fromStdString(spec.accuracyLabel)));
        plot()->yAxis2->setRange(0, 100);
    }
    plot()->xAxis->setRange(0, 10);
    plot()->yAxis->setRange(0.05, showThreshold ? spec.threshold * 1.5 : 5.0);
    replot();
}

void LossChart::addStep(const LockStep &step)
{
    if (!m_steps.empty() && step.stageIndex != m_steps.back().stageIndex) {
        auto *marker = new QCPItemStraightLine(plot());
        marker->point1->setCoords(step.iteration - 0.5, 0);
        marker->point2->setCoords(step.iteration - 0.5, 1);
        marker->setPen(QPen(Qt::gray, 1, Qt::DotLine));
        ++m_markers;
    }
    m_steps.push_back(step);
    if (step.loss > 0.0) // the log axis has no 0 (NNSplitter's epoch 0 has a loss, AdvParams' steps always do)
        plot()->graph(0)->addData(step.iteration, step.loss);
    if (m_accuracy && step.accuracy >= 0.0)
        m_accuracy->addData(step.iteration, 100.0 * step.accuracy);
    if (m_accuracy && step.targetAccuracy >= 0.0 && m_target < 0.0) {
        // Where the lock stops (the strong mode's target): a dashed line on the accuracy axis, named in the legend.
        m_target = 100.0 * step.targetAccuracy;
        const QPen pen(kAccent, 1.5, Qt::DashLine);
        QCPGraph *legend = plot()->addGraph(plot()->xAxis, plot()->yAxis2);
        legend->setName(tr("the lock stops at %1 %").arg(m_target, 0, 'f', 1));
        legend->setPen(pen);
        auto *line = new QCPItemStraightLine(plot());
        for (QCPItemPosition *p : {line->point1, line->point2})
            p->setAxes(plot()->xAxis, plot()->yAxis2);
        line->point1->setCoords(0, m_target);
        line->point2->setCoords(1, m_target);
        line->setPen(pen);
    }
    plot()->xAxis->setRange(0, std::max(10.0, step.iteration + 1.0));
    if (step.loss > plot()->yAxis->range().upper)
        plot()->yAxis->setRangeUpper(step.loss * 1.5);
    if (step.loss > 0 && step.loss < plot()->yAxis->range().lower)
        plot()->yAxis->setRangeLower(step.loss / 1.5);
    replot();
}

int LossChart::accuracyPointCount() const
{
    return m_accuracy ? m_accuracy->dataCount() : 0;
}

QString LossChart::csv() const
{
    QString text = QStringLiteral("iteration,stage,index,loss,change,accuracy\n");
    for (const LockStep &s : m_steps)
        text += QStringLiteral("%1,%2,%3,%4,%5,%6\n")
                    .arg(s.iteration)
                    .arg(QString::fromStdString(s.stage))
                    .arg(s.index)
                    .arg(s.loss, 0, 'g', 8)
                    .arg(s.change, 0, 'g', 8)
                    .arg(s.accuracy < 0.0 ? QString() : QString::number(s.accuracy, 'g', 6));
    return text;
}

// ---- WeightRangeChart ------------------------------------------------------------

WeightRangeChart::WeightRangeChart(QWidget *parent)
    : ChartWidget(tr("Encrypted weights stay inside their layer's range (Fig. 3)"), parent)
{
    plot()->xAxis->setLabel(tr("encrypted layer"));
    plot()->yAxis->setLabel(tr("weight value"));
}

void WeightRangeChart::setData(const std::vector<LayerLockReport> &layers)
{
    m_layers.clear();
    for (const auto &l : layers)
        if (!l.positions.empty())
            m_layers.push_back(l);
    plot()->clearGraphs();
    QCPGraph *mins = plot()->addGraph();
    mins->setName(tr("layer min before locking"));
    QCPGraph *maxs = plot()->addGraph();
    maxs->setName(tr("layer max before locking"));
    QCPGraph *values = plot()->addGraph();
    values->setName(tr("encrypted weights after locking"));
    for (QCPGraph *g : {mins, maxs}) {
        g->setLineStyle(QCPGraph::lsNone);
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssPlus, kBefore, 14));
    }
    maxs->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCross, kBefore, 12));
    values->setLineStyle(QCPGraph::lsNone);
    values->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, kAfter, 6));
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    for (size_t i = 0; i < m_layers.size(); ++i) {
        const double x = double(i + 1);
        mins->addData(x, m_layers[i].min);
        maxs->addData(x, m_layers[i].max);
        for (float v : m_layers[i].after)
            values->addData(x, v);
        QString name = QString::fromStdString(m_layers[i].layer);
        name.remove(QStringLiteral(".weight"));
        ticker->addTick(x, name);
    }
    plot()->xAxis->setTicker(ticker);
    plot()->xAxis->setTickLabelRotation(m_layers.size() > 6 ? 45 : 0);
    plot()->rescaleAxes();
    plot()->xAxis->setRange(0.4, double(m_layers.size()) + 0.6);
    plot()->yAxis->scaleRange(1.15);
    // The title says what the points show: a method that clamps to the model-wide range (NNSplitter's default)
    // leaves some layers' ranges, and a reviewer must see it.
    const int outside = pointsOutsideRange();
    if (outside == 0)
        setTitle(tr("Encrypted weights stay inside their layer's range (Fig. 3)"));
    else if (outside == 1)
        setTitle(tr("1 encrypted weight lies outside its layer's range (Fig. 3)"));
    else
        setTitle(tr("%1 encrypted weights lie outside their layer's range (Fig. 3)").arg(outside));
    replot();
}

int WeightRangeChart::pointsOutsideRange() const
{
    int outside = 0;
    for (const auto &l : m_layers)
        for (float v : l.after)
            outside += (v < l.min || v > l.max) ? 1 : 0;
    return outside;
}

QString WeightRangeChart::csv() const
{
    QString text = QStringLiteral("layer,min_before,max_before,lower_bound,upper_bound,flat_index,before,after\n");
    for (const auto &l : m_layers)
        for (size_t i = 0; i < l.positions.size(); ++i)
            text += QStringLiteral("%1,%2,%3,%4,%5,%6,%7,%8\n")
                        .arg(QString::fromStdString(l.layer))
                        .arg(double(l.min), 0, 'g', 9)
                        .arg(double(l.max), 0, 'g', 9)
                        .arg(l.lowerBound, 0, 'g', 9)
                        .arg(l.upperBound, 0, 'g', 9)
                        .arg(l.positions[i])
                        .arg(double(l.before[i]), 0, 'g', 9)
                        .arg(double(l.after[i]), 0, 'g', 9);
    return text;
}

// ---- Histograms -------------------------------------------------------------------

Histogram Histogram::of(const std::vector<float> &values, double low, double high, int bins)
{
    Histogram h;
    h.low = low;
    h.binWidth = (high - low) / std::max(1, bins);
    h.counts.assign(size_t(std::max(1, bins)), 0.0);
    double sum = 0.0, squares = 0.0;
    for (float v : values) {
        sum += v;
        squares += double(v) * double(v);
        const auto bin = h.binWidth > 0 ? static_cast<long>(std::floor((double(v) - low) / h.binWidth)) : 0;
        h.counts[size_t(std::clamp<long>(bin, 0, long(h.counts.size()) - 1))] += 1.0;
    }
    const double n = double(values.size());
    if (n > 0) {
        h.mean = sum / n;
        h.std = n > 1 ? std::sqrt(std::max(0.0, (squares - n * h.mean * h.mean) / (n - 1))) : 0.0;
    }
    return h;
}

WeightHistogramChart::WeightHistogramChart(const QString &title, QWidget *parent) : ChartWidget(title, parent)
{
    plot()->xAxis->setLabel(tr("weight value"));
    plot()->yAxis->setLabel(tr("number of weights"));
}

void WeightHistogramChart::setData(
    const std::vector<float> &before, const std::vector<float> &after, int bins, const std::vector<float> &marked)
{
    plot()->clearGraphs();
    plot()->clearItems();
    if (before.empty())
        return;
    const auto [lo, hi] = std::minmax_element(before.begin(), before.end());
    double low = *lo, high = *hi;
    for (float v : after) {
        low = std::min(low, double(v));
        high = std::max(high, double(v));
    }
    if (high <= low)
        high = low + 1.0;
    m_before = Histogram::of(before, low, high, bins);
    m_after = Histogram::of(after, low, high, bins);
    auto addHistogram = [&](const Histogram &h, const QString &name, const QColor &colour, Qt::PenStyle style) {
        QCPGraph *g = plot()->addGraph();
        g->setName(QStringLiteral("%1 (mean %2, std %3)").arg(name).arg(h.mean, 0, 'g', 4).arg(h.std, 0, 'g', 4));
        g->setLineStyle(QCPGraph::lsStepLeft);
        g->setPen(QPen(colour, 2, style));
        QColor fill = colour;
        fill.setAlpha(style == Qt::SolidLine ? 50 : 0);
        g->setBrush(fill);
        for (size_t i = 0; i < h.counts.size(); ++i)
            g->addData(h.low + double(i) * h.binWidth, h.counts[i]);
        g->addData(h.low + double(h.counts.size()) * h.binWidth, h.counts.back());
    };
    addHistogram(m_before, tr("before locking"), kBefore, Qt::SolidLine);
    addHistogram(m_after, tr("after locking"), kAfter, Qt::DashLine);
    if (!marked.empty()) {
        QCPGraph *legendEntry = plot()->addGraph();
        legendEntry->setName(tr("changed weights (after)"));
        legendEntry->setPen(QPen(kAccent, 1.5));
        for (float v : marked) {
            auto *line = new QCPItemStraightLine(plot());
            line->point1->setCoords(v, 0);
            line->point2->setCoords(v, 1);
            line->setPen(QPen(kAccent, 1.5));
        }
    }
    plot()->rescaleAxes();
    plot()->yAxis->setRangeLower(0);
    plot()->yAxis->scaleRange(1.1, plot()->yAxis->range().lower);
    replot();
}

QString WeightHistogramChart::csv() const
{
    QString text = QStringLiteral("bin_start,bin_end,count_before,count_after\n");
    for (size_t i = 0; i < m_before.counts.size(); ++i)
        text += QStringLiteral("%1,%2,%3,%4\n")
                    .arg(m_before.low + double(i) * m_before.binWidth, 0, 'g', 8)
                    .arg(m_before.low + double(i + 1) * m_before.binWidth, 0, 'g', 8)
                    .arg(m_before.counts[i])
                    .arg(i < m_after.counts.size() ? m_after.counts[i] : 0.0);
    return text;
}

// ---- AnalysisChart ---------------------------------------------------------------

AnalysisChart::AnalysisChart(QWidget *parent) : ChartWidget(tr("Experiments and attacks"), parent)
{ }

void AnalysisChart::setAnalysis(const Analysis &analysis)
{
    m_analysis = analysis;
    QCustomPlot *p = plot();
    p->clearPlottables();
    p->clearItems();
    setTitle(QString::fromStdString(analysis.title));
    // Accuracies are fractions; people read percentages.
    const bool accuracy = analysis.yLabel == "test accuracy";
    const double scale = accuracy ? 100.0 : 1.0;
    p->yAxis->setLabel(QString::fromStdString(analysis.yLabel) + (accuracy ? tr(" (%)") : QString()));
    p->xAxis->setLabel(QString::fromStdString(analysis.xLabel));
    const QColor colours[] = {kAfter, kBefore, kAccent, QColor(148, 103, 189)};
    double top = 0.0;
    if (!analysis.categories.empty()) {
        auto ticker = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
        for (size_t i = 0; i < analysis.categories.size(); ++i)
            ticker->addTick(double(i), QString::fromStdString(analysis.categories[i]));
        p->xAxis->setTicker(ticker);
        const bool rotated = analysis.categories.size() > 6;
        p->xAxis->setTickLabelRotation(rotated ? 60 : 0);
        auto *group = new QCPBarsGroup(p);
        for (size_t s = 0; s < analysis.series.size(); ++s) {
            auto *bars = new QCPBars(p->xAxis, p->yAxis);
            bars->setName(QString::fromStdString(analysis.series[s].name));
            bars->setBrush(colours[s % 4]);
            bars->setPen(QPen(colours[s % 4].darker(130)));
            bars->setWidth(0.8 / double(analysis.series.size()));
            bars->setBarsGroup(group);
            for (size_t i = 0; i < analysis.series[s].x.size(); ++i) {
                bars->addData(analysis.series[s].x[i], analysis.series[s].y[i] * scale);
                top = std::max(top, analysis.series[s].y[i] * scale);
            }
        }
        // QCustomPlot leaves out a tick label that would cross the widget's edge: room for the last rotated one.
        p->xAxis->setRange(-0.6, double(analysis.categories.size()) - 0.4 + (rotated ? 0.8 : 0.0));
    } else {
        p->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
        p->xAxis->setTickLabelRotation(0);
        double lo = 0.0, hi = 1.0;
        bool first = true;
        for (size_t s = 0; s < analysis.series.size(); ++s) {
            QCPGraph *g = p->addGraph();
            g->setName(QString::fromStdString(analysis.series[s].name));
            g->setPen(QPen(colours[s % 4], 2));
            g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 6));
            for (size_t i = 0; i < analysis.series[s].x.size(); ++i) {
                const double x = analysis.series[s].x[i];
                g->addData(x, analysis.series[s].y[i] * scale);
                top = std::max(top, analysis.series[s].y[i] * scale);
                lo = first ? x : std::min(lo, x);
                hi = first ? x : std::max(hi, x);
                first = false;
            }
        }
        const double pad = hi > lo ? (hi - lo) * 0.05 : 0.5;
        p->xAxis->setRange(lo - pad, hi + pad);
    }
    if (analysis.reference >= 0.0) {
        QCPGraph *legendEntry = p->addGraph(); // no data: carries the reference line's legend entry
        legendEntry->setName(QString::fromStdString(analysis.referenceLabel));
        legendEntry->setPen(QPen(Qt::gray, 1.5, Qt::DashLine));
        auto *line = new QCPItemStraightLine(p);
        line->point1->setCoords(0, analysis.reference * scale);
        line->point2->setCoords(1, analysis.reference * scale);
        line->setPen(legendEntry->pen());
    }
    p->yAxis->setRange(0, accuracy ? 100.0 : std::max(1.0, top * 1.15));
    replot();
}

QString AnalysisChart::csv() const
{
    QString text;
    for (size_t c = 0; c < m_analysis.columns.size(); ++c)
        text += (c ? QStringLiteral(",") : QString()) + QString::fromStdString(m_analysis.columns[c]);
    text += QLatin1Char('\n');
    for (const auto &row : m_analysis.rows) {
        for (size_t c = 0; c < row.size(); ++c)
            text += (c ? QStringLiteral(",") : QString()) + QString::fromStdString(row[c]);
        text += QLatin1Char('\n');
    }
    return text;
}

// ---- FrontierChart ----------------------------------------------------------------

FrontierChart::FrontierChart(Axis axis, QWidget *parent)
    : ChartWidget(axis == Axis::WeightsChanged ? tr("What a lock changes against what it leaves a thief")
                                               : tr("How visible a lock is against what it leaves a thief"),
        parent),
      m_axis(axis)
{
    if (axis == Axis::WeightsChanged) {
        plot()->xAxis->setScaleType(QCPAxis::stLogarithmic);
        plot()->xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
        plot()->xAxis->setNumberFormat(QStringLiteral("gb"));
        plot()->xAxis->setLabel(tr("weights changed (log scale)"));
    } else {
        plot()->xAxis->setLabel(tr("stealth score (0: nothing these checks see)"));
    }
    plot()->yAxis->setLabel(tr("advantage at k (%)"));
    plot()->legend->setVisible(true);
    plot()->legend->setWrap(2); // four entries in two rows: the plot keeps its height
}

void FrontierChart::setResult(const FrontierResult &result)
{
    m_result = result;
    m_points = 0;
    QCustomPlot *p = plot();
    p->clearPlottables();
    p->clearItems();
    plot()->yAxis->setLabel(tr("advantage at k = %1 (%)").arg(result.size));
    const QColor colours[] = {kAfter, kBefore, kAccent, QColor(148, 103, 189), QColor(255, 127, 14)};
    const QCPScatterStyle::ScatterShape shapes[] = {QCPScatterStyle::ssDisc, QCPScatterStyle::ssSquare,
        QCPScatterStyle::ssTriangle, QCPScatterStyle::ssDiamond, QCPScatterStyle::ssCross};
    std::vector<std::string> methodsSeen;
    double xLo = 0.0, xHi = 0.0, yLo = 0.0, yHi = 100.0;
    bool first = true;
    // Where each label went, in axis fractions: a label near an earlier point takes the next free corner.
    const auto xOf = [this](double x) { return m_axis == Axis::WeightsChanged ? std::log10(std::max(1.0, x)) : x; };
    double spanX = 1.0;
    {
        double lo = 0.0, hi = 0.0;
        bool any = false;
        for (const FrontierPoint &pt : result.points) {
            const double x = xOf(m_axis == Axis::WeightsChanged ? double(pt.weightsChanged) : pt.stealth.score());
            lo = any ? std::min(lo, x) : x;
            hi = any ? std::max(hi, x) : x;
            any = true;
        }
        spanX = std::max(hi - lo, m_axis == Axis::WeightsChanged ? 1.0 : 0.2);
    }
    struct Placed
    {
        double x, y;
        int corner;
    };
    std::vector<Placed> placed;
    const Qt::Alignment corners[] = {Qt::AlignLeft | Qt::AlignBottom, Qt::AlignLeft | Qt::AlignTop,
        Qt::AlignRight | Qt::AlignBottom, Qt::AlignRight | Qt::AlignTop};
    for (const FrontierPoint &pt : result.points) {
        auto it = std::find(methodsSeen.begin(), methodsSeen.end(), pt.candidate.method);
        const size_t m = size_t(it - methodsSeen.begin());
        QCPGraph *g = nullptr;
        if (it == methodsSeen.end()) {
            methodsSeen.push_back(pt.candidate.method);
            g = p->addGraph();
            g->setName(QString::fromStdString(pt.methodName));
            g->setLineStyle(QCPGraph::lsNone);
            g->setPen(QPen(colours[m % 5], 2));
            g->setScatterStyle(QCPScatterStyle(shapes[m % 5], colours[m % 5], colours[m % 5], 9));
        } else {
            g = p->graph(int(m));
        }
        const double x =
            m_axis == Axis::WeightsChanged ? double(std::max<int64_t>(1, pt.weightsChanged)) : pt.stealth.score();
        // No advantage when training from scratch reaches the original (the data alone is all a thief needs): 0.
        const bool undefined = std::isnan(pt.advantage);
        const double y = undefined ? 0.0 : 100.0 * pt.advantage;
        g->addData(x, y);
        auto *label = new QCPItemText(p);
        label->position->setCoords(x, y);
        bool used[4] = {false, false, false, false};
        for (const Placed &q : placed)
            if (std::abs(q.x - xOf(x)) < 0.12 * spanX && std::abs(q.y - y) < 12.0)
                used[q.corner] = true;
        int corner = 0;
        while (corner < 3 && used[corner])
            ++corner;
        placed.push_back({xOf(x), y, corner});
        label->setPositionAlignment(corners[corner]);
        label->setPadding(corner < 2 ? QMargins(6, 2, 0, 2) : QMargins(0, 2, 6, 2));
        label->setText(QString::fromStdString(pt.candidate.setting) + (pt.weakness.empty() ? QString() : tr(" (weak)"))
            + (undefined ? tr(" (n/a: scratch reaches the original)") : QString()));
        label->setColor(colours[m % 5].darker(120));
        xLo = first ? x : std::min(xLo, x);
        xHi = first ? x : std::max(xHi, x);
        yLo = std::min(yLo, y);
        yHi = std::max(yHi, y);
        first = false;
        ++m_points;
    }
    // Advantage 0: the locked model is worth no more than the thief's own data.
    QCPGraph *legendEntry = p->addGraph();
    legendEntry->setName(tr("0: worth nothing beyond the thief's data"));
    legendEntry->setPen(QPen(Qt::gray, 1.5, Qt::DashLine));
    auto *zero = new QCPItemStraightLine(p);
    zero->point1->setCoords(1, 0);
    zero->point2->setCoords(2, 0);
    zero->setPen(legendEntry->pen());
    if (m_axis == Axis::WeightsChanged)
        p->xAxis->setRange(std::max(0.5, xLo / 3.0), std::max(10.0, xHi * 20.0));
    else
        p->xAxis->setRange(std::min(0.0, xLo) - 0.05, std::max(0.5, xHi * 1.4 + 0.05));
    p->yAxis->setRange(std::min(-10.0, yLo - 10.0), std::max(100.0, yHi + 10.0));
    replot();
}

QString FrontierChart::csv() const
{
    QString text = QStringLiteral("lock,weights_changed,key_bytes,stealth_score,advantage,ratio\n");
    for (const FrontierPoint &pt : m_result.points)
        text += QStringLiteral("\"%1\",%2,%3,%4,%5,%6\n")
                    .arg(QString::fromStdString(pt.candidate.label))
                    .arg(pt.weightsChanged)
                    .arg(pt.keyBytes)
                    .arg(pt.stealth.score())
                    .arg(pt.advantage)
                    .arg(pt.ratio);
    return text;
}

} // namespace paramlock
