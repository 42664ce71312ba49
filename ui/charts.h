#pragma once

#include "analysis.h"
#include "frontier.h"
#include "lockresult.h"
#include "progress.h"
#include "protectionmethod.h"
#include "chartwidget.h"

#include <vector>

class QCPGraph;

namespace paramlock {

/** The lock's loss per step, with the method's threshold (T_loss) and a marker where the stage (layer) changes. */
class LossChart : public ChartWidget
{
    Q_OBJECT
public:
    explicit LossChart(QWidget *parent = nullptr);

    void start(const LockChartSpec &spec);
    void addStep(const LockStep &step);
    int pointCount() const { return int(m_steps.size()); }
    int layerMarkerCount() const { return m_markers; }
    /** Points on the accuracy axis (methods whose chart spec names an accuracy). */
    int accuracyPointCount() const;
    /** The accuracy the lock stops at, drawn on the accuracy axis once a step names it (percent; -1: none). */
    double targetLine() const { return m_target; }
    QString csv() const override;

private:
    std::vector<LockStep> m_steps;
    int m_markers = 0;
    QCPGraph *m_accuracy = nullptr;
    double m_target = -1.0;
};

/** The paper's Fig. 3: per encrypted layer, its range before locking and the encrypted weights after. */
class WeightRangeChart : public ChartWidget
{
    Q_OBJECT
public:
    explicit WeightRangeChart(QWidget *parent = nullptr);
    void setData(const std::vector<LayerLockReport> &layers);
    /** Encrypted weights plotted outside their layer's range: 0 is what the lock promises. */
    int pointsOutsideRange() const;
    QString csv() const override;

private:
    std::vector<LayerLockReport> m_layers;
};

/** Histogram counts of a set of weights. */
struct Histogram
{
    double low = 0.0;
    double binWidth = 0.0;
    std::vector<double> counts;
    double mean = 0.0;
    double std = 0.0;
    static Histogram of(const std::vector<float> &values, double low, double high, int bins);
};

/** The paper's Fig. 4: the histogram of weights before and after locking, with mean and std. */
class WeightHistogramChart : public ChartWidget
{
    Q_OBJECT
public:
    explicit WeightHistogramChart(const QString &title, QWidget *parent = nullptr);
    /** `marked`: values to flag with vertical lines (the changed weights of a zoomed layer). */
    void setData(const std::vector<float> &before, const std::vector<float> &after, int bins = 60,
        const std::vector<float> &marked = {});
    const Histogram &before() const { return m_before; }
    const Histogram &after() const { return m_after; }
    QString csv() const override;

private:
    Histogram m_before;
    Histogram m_after;
};

/** Any experiment or attack result: lines over a numeric x, or grouped bars per layer or variant. */
class AnalysisChart : public ChartWidget
{
    Q_OBJECT
public:
    explicit AnalysisChart(QWidget *parent = nullptr);
    void setAnalysis(const Analysis &analysis);
    const Analysis &analysis() const { return m_analysis; }
    QString csv() const override;

private:
    Analysis m_analysis;
};

/**
 * The frontier: one point per lock (a colour and marker per method, the setting written beside it), the advantage a
 * thief with k images gets from it on y, and on x either the weights it changes (log scale) or its stealth score.
 */
class FrontierChart : public ChartWidget
{
    Q_OBJECT
public:
    enum class Axis { WeightsChanged, Stealth };
    explicit FrontierChart(Axis axis, QWidget *parent = nullptr);
    void setResult(const FrontierResult &result);
    /** Locks plotted (every lock; at 0 where the advantage is undefined). */
    int pointCount() const { return m_points; }
    QString csv() const override;

private:
    Axis m_axis;
    FrontierResult m_result;
    int m_points = 0;
};

} // namespace paramlock
