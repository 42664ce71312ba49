#pragma once

#include <QWidget>

class QCustomPlot;
class QCPTextElement;

namespace paramlock {

/**
 * The common frame of every chart: one QCustomPlot with a title, axis labels,
 * a legend, zoom and pan, and a context menu to export PNG or PDF and copy
 * the data as CSV. Subclasses fill the plot in setData() and describe their
 * data in csv().
 */
class ChartWidget : public QWidget
{
    Q_OBJECT
public:
    explicit ChartWidget(const QString &heading, QWidget *parent = nullptr);

    QCustomPlot *plot() const { return m_plot; }
    QString title() const;
    void setTitle(const QString &title);
    /** The plotted data as CSV with a header line. */
    virtual QString csv() const = 0;

    bool exportTo(const QString &path) const;
    void copyCsv() const;

protected:
    void changeEvent(QEvent *event) override;
    void applyPalette();
    void replot();

private:
    QCustomPlot *m_plot;
    QCPTextElement *m_title;
};

} // namespace paramlock
