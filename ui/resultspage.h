#pragma once

#include <QWidget>

class QComboBox;
class QGridLayout;
class QLabel;

namespace paramlock {

class LockDocument;
class WeightHistogramChart;
class WeightRangeChart;

/** "2 · Results": the accuracies, what the model says about test images, Fig. 3 and Fig. 4 of the last lock. */
class ResultsPage : public QWidget
{
    Q_OBJECT
public:
    explicit ResultsPage(LockDocument *document, QWidget *parent = nullptr);

private:
    void showOutcome();
    void showPredictions();
    void updateZoomLayer();
    void showProtectionLevel();

    LockDocument *m_document;
    QLabel *m_accuracyBefore;
    QLabel *m_accuracyAfter;
    QLabel *m_drop;
    QLabel *m_encrypted;
    QLabel *m_protection;
    QGridLayout *m_predictionGrid;
    WeightRangeChart *m_rangeChart;
    WeightHistogramChart *m_histogram;
    QComboBox *m_zoomLayer;
    WeightHistogramChart *m_layerHistogram;
};

} // namespace paramlock
