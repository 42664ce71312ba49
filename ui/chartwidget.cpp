#include "chartwidget.h"

#include <QApplication>
#include <QClipboard>
#include <QContextMenuEvent>
#include <QFileDialog>
#include <QMenu>
#include <QVBoxLayout>

#include <qcustomplot.h>

namespace paramlock {

ChartWidget::ChartWidget(const QString &heading, QWidget *parent)
    : QWidget(parent), m_plot(new QCustomPlot(this)), m_title(nullptr)
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot);
    m_plot->plotLayout()->insertRow(0);
    QFont titleFont = font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.15);
    titleFont.setBold(true);
    m_title = new QCPTextElement(m_plot, heading, titleFont);
    m_plot->plotLayout()->addElement(0, 0, m_title);
    m_plot->legend->setVisible(true);
    // The legend sits in its own row under the plot, so that it never hides data.
    auto *legendRow = new QCPLayoutGrid;
    m_plot->plotLayout()->addElement(2, 0, legendRow);
    m_plot->axisRect()->insetLayout()->take(m_plot->legend);
    legendRow->addElement(0, 0, m_plot->legend);
    legendRow->setMargins(QMargins(5, 0, 5, 5));
    m_plot->legend->setFillOrder(QCPLegend::foColumnsFirst);
    m_plot->legend->setWrap(1);
    m_plot->plotLayout()->setRowStretchFactor(2, 0.001);
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_plot->setMinimumSize(320, 300);
    m_plot->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_plot, &QWidget::customContextMenuRequested, this, [this](const QPoint &pos) {
        QMenu menu(this);
        menu.addAction(tr("Reset zoom"), this, [this] {
            m_plot->rescaleAxes();
            replot();
        });
        menu.addAction(tr("Export as PNG or PDF…"), this, [this] {
            const QString path = QFileDialog::getSaveFileName(
                this, tr("Export chart"), title() + QStringLiteral(".png"), tr("PNG image (*.png);;PDF (*.pdf)"));
            if (!path.isEmpty())
                exportTo(path);
        });
        menu.addAction(tr("Copy data as CSV"), this, &ChartWidget::copyCsv);
        menu.exec(m_plot->mapToGlobal(pos));
    });
    applyPalette();
}

QString ChartWidget::title() const
{
    return m_title->text();
}

void ChartWidget::setTitle(const QString &title)
{
    m_title->setText(title);
}

bool ChartWidget::exportTo(const QString &path) const
{
    if (path.endsWith(QLatin1String(".pdf"), Qt::CaseInsensitive))
        return m_plot->savePdf(path);
    return m_plot->savePng(path, 0, 0, 2.0);
}

void ChartWidget::copyCsv() const
{
    QApplication::clipboard()->setText(csv());
}

void ChartWidget::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::PaletteChange)
        applyPalette();
    QWidget::changeEvent(event);
}

void ChartWidget::applyPalette()
{
    const QPalette p = palette();
    const QColor fg = p.color(QPalette::WindowText);
    m_plot->setBackground(p.brush(QPalette::Base));
    m_title->setTextColor(fg);
    for (QCPAxis *axis : m_plot->axisRect()->axes()) {
        axis->setBasePen(QPen(fg));
        axis->setTickPen(QPen(fg));
        axis->setSubTickPen(QPen(fg));
        axis->setTickLabelColor(fg);
        axis->setLabelColor(fg);
        axis->grid()->setPen(QPen(p.color(QPalette::Mid), 0, Qt::DotLine));
    }
    m_plot->legend->setBrush(p.brush(QPalette::Base));
    m_plot->legend->setTextColor(fg);
    m_plot->legend->setBorderPen(QPen(p.color(QPalette::Mid)));
    replot();
}

void ChartWidget::replot()
{
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace paramlock
