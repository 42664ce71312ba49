#include "resultspage.h"

#include "charts.h"
#include "imagedecoding.h"
#include "lockdocument.h"
#include "report.h"
#include "text.h"

#include <QComboBox>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QScrollArea>
#include <QVBoxLayout>

namespace paramlock {

namespace {

QLabel *bigFigure(QWidget *parent)
{
    auto *label = new QLabel(QStringLiteral("–"), parent);
    QFont f = label->font();
    f.setPointSizeF(f.pointSizeF() * 2.2);
    f.setBold(true);
    label->setFont(f);
    label->setAlignment(Qt::AlignCenter);
    return label;
}

QWidget *figureBox(const QString &caption, QLabel *figure, QWidget *parent)
{
    auto *box = new QGroupBox(caption, parent);
    auto *layout = new QVBoxLayout(box);
    layout->addWidget(figure);
    return box;
}

} // namespace

ResultsPage::ResultsPage(LockDocument *document, QWidget *parent) : QWidget(parent), m_document(document)
{
    auto *content = new QWidget(this);
    auto *layout = new QVBoxLayout(content);
    auto *figures = new QHBoxLayout;
    m_accuracyBefore = bigFigure(content);
    m_accuracyAfter = bigFigure(content);
    m_drop = bigFigure(content);
    m_encrypted = bigFigure(content);
    figures->addWidget(figureBox(tr("Accuracy before"), m_accuracyBefore, content));
    figures->addWidget(figureBox(tr("Accuracy locked"), m_accuracyAfter, content));
    figures->addWidget(figureBox(tr("Drop A_d"), m_drop, content));
    figures->addWidget(figureBox(tr("Weights changed"), m_encrypted, content));
    layout->addLayout(figures);
    m_protection = new QLabel(content);
    m_protection->setWordWrap(true);
    m_protection->setTextFormat(Qt::RichText);
    layout->addWidget(m_protection);

    auto *predictions = new QGroupBox(tr("What the model says about test images: before locking → locked"), content);
    m_predictionGrid = new QGridLayout(predictions);
    layout->addWidget(predictions);

    m_rangeChart = new WeightRangeChart(content);
    m_histogram = new WeightHistogramChart(tr("All conv/FC weights before and after locking (Fig. 4)"), content);
    auto *charts = new QHBoxLayout;
    charts->addWidget(m_rangeChart);
    charts->addWidget(m_histogram);
    layout->addLayout(charts, 1);

    auto *zoomRow = new QHBoxLayout;
    zoomRow->addWidget(new QLabel(tr("Zoom on layer:"), content));
    m_zoomLayer = new QComboBox(content);
    zoomRow->addWidget(m_zoomLayer, 1);
    layout->addLayout(zoomRow);
    m_layerHistogram = new WeightHistogramChart(tr("One layer's weights, changed weights marked"), content);
    m_layerHistogram->setMinimumHeight(260);
    layout->addWidget(m_layerHistogram, 1);
    connect(m_zoomLayer, &QComboBox::currentIndexChanged, this, &ResultsPage::updateZoomLayer);

    auto *scroll = new QScrollArea(this);
    scroll->setWidget(content);
    scroll->setWidgetResizable(true);
    auto *outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->addWidget(scroll);
    connect(m_document, &LockDocument::outcomeChanged, this, &ResultsPage::showOutcome);
    connect(m_document, &LockDocument::protectionLevelChanged, this, &ResultsPage::showProtectionLevel);
    showProtectionLevel();
}

void ResultsPage::showProtectionLevel()
{
    const QString level = m_document->protectionLevel();
    m_protection->setText(level.isEmpty()
            ? tr("<b>Against a thief with labelled data:</b> not measured yet. Run <i>Is stealing worth it?</i> on "
                 "the Attacks &amp; Report page.")
            : tr("<b>Against a thief with labelled data:</b> %1").arg(level.toHtmlEscaped()));
}

void ResultsPage::showOutcome()
{
    const auto outcome = m_document->outcome();
    if (!outcome)
        return;
    const LockResult &r = outcome->result;
    m_accuracyBefore->setText(percentString(outcome->accuracyBefore, 2, true));
    m_accuracyAfter->setText(percentString(outcome->accuracyAfter, 2, true));
    m_accuracyAfter->setStyleSheet(QStringLiteral("color: #b91c1c"));
    m_drop->setText(percentString(outcome->accuracyBefore - outcome->accuracyAfter, 2, true));
    m_encrypted->setText(
        tr("%1 of %2").arg(r.encryptedCount()).arg(QLocale().toString(qlonglong(r.key.parameterCount))));
    m_encrypted->setToolTip(
        tr("%1 of all parameters")
            .arg(percentString(
                double(r.encryptedCount()) / double(std::max<int64_t>(1, r.key.parameterCount)), 5, true)));
    m_rangeChart->setData(r.layers);
    m_histogram->setData(allWeights(m_document->model()), allWeights(r.locked));
    m_zoomLayer->blockSignals(true);
    m_zoomLayer->clear();
    for (const auto &l : r.layers)
        if (!l.positions.empty())
            m_zoomLayer->addItem(QString::fromStdString(l.layer));
    m_zoomLayer->blockSignals(false);
    updateZoomLayer();
    showPredictions();
}

void ResultsPage::showPredictions()
{
    while (QLayoutItem *item = m_predictionGrid->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    const auto outcome = m_document->outcome();
    const auto test = m_document->test();
    if (!outcome || !test)
        return;
    const auto &names = test->classNames;
    auto name = [&](int c) {
        return c >= 0 && size_t(c) < names.size() ? QString::fromStdString(names[size_t(c)]) : QString::number(c);
    };
    const int columns = 6;
    for (size_t i = 0; i < outcome->predictionsBefore.size(); ++i) {
        auto *cell = new QLabel;
        const int truth = test->labels[i];
        const int before = outcome->predictionsBefore[i];
        const int after = outcome->predictionsAfter[i];
        auto coloured = [&](int p) {
            return QStringLiteral("<span style='color:%1'>%2</span>")
                .arg(p == truth ? QStringLiteral("#15803d") : QStringLiteral("#b91c1c"), name(p).toHtmlEscaped());
        };
        cell->setText(tr("<b>%1</b><br>%2 → %3").arg(name(truth).toHtmlEscaped(), coloured(before), coloured(after)));
        cell->setAlignment(Qt::AlignCenter);
        auto *picture = new QLabel;
        picture->setPixmap(QPixmap::fromImage(
            datasetImage(*test, int64_t(i)).scaled(56, 56, Qt::KeepAspectRatio, Qt::FastTransformation)));
        picture->setAlignment(Qt::AlignCenter);
        const int row = int(i) / columns * 2;
        m_predictionGrid->addWidget(picture, row, int(i) % columns);
        m_predictionGrid->addWidget(cell, row + 1, int(i) % columns);
    }
}

void ResultsPage::updateZoomLayer()
{
    const auto outcome = m_document->outcome();
    if (!outcome || m_zoomLayer->currentIndex() < 0)
        return;
    const std::string name = m_zoomLayer->currentText().toStdString();
    for (const auto &l : outcome->result.layers)
        if (l.layer == name) {
            m_layerHistogram->setData(
                *m_document->model().weights(name), *outcome->result.locked.weights(name), 50, l.after);
            return;
        }
}

} // namespace paramlock
