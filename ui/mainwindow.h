#pragma once

#include "dataset.h"
#include "lockjob.h"
#include "model.h"

#include <QMainWindow>

#include <memory>
#include <optional>

class QAction;
class QButtonGroup;
class QComboBox;
class QDoubleSpinBox;
class QGridLayout;
class QLabel;
class QProgressBar;
class QPushButton;
class QSortFilterProxyModel;
class QSpinBox;
class QTabWidget;
class QTableView;

namespace paramlock {

class LayerTableModel;
class LossChart;
class AnalysisPage;
class MessageBar;
class WeightHistogramChart;
class WeightRangeChart;

/** Open a model, choose what to lock, lock it, look at the results, save, unlock. */
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    /** Loads a model file; errors go to the message bar. */
    bool openModel(const QString &path);
    /** Reads a dataset folder (or "fashion-mnist") in the background. */
    void openDataset(const QString &path);
    /** The shipped LeNet-5 and the Debian package's Fashion-MNIST. */
    void tryDemo();
    void runLock();
    void cancelLock();
    /** Writes the locked model and the key, sealed with `password` when one is given. */
    bool saveLocked(
        const QString &modelPath, const QString &keyPath, const QString &password = {}, const QString &recipient = {});
    /** Unlock tab: check a key against the locked model in memory or a file; asks for a sealed key's password. */
    void checkKey(const QString &keyPath, const QString &password = {});
    /** Unlock the locked model in memory (or the opened file) with the current key. */
    void unlockInMemory();
    /** Full-screen story of the last lock for a non-technical audience. */
    void present(int firstPage = 0);
    /** Lock settings for scripted demos: "strong" or "paper", and the encryption-set size. */
    void setLockSettings(const QString &mode, int samples);

signals:
    void lockFinished();
    void unlocked();

public:
    LockJob *lockJob() const { return m_job; }
    MessageBar *messageBar() const { return m_messages; }
    LayerTableModel *layerModel() const { return m_layers; }
    QTabWidget *tabs() const { return m_tabs; }
    AnalysisPage *analysisPage() const { return m_analysis; }
    bool datasetReady() const { return m_train.has_value(); }

protected:
    void closeEvent(QCloseEvent *event) override;
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;

private:
    void buildActions();
    QWidget *buildLockTab();
    QWidget *buildResultsTab();
    QWidget *buildUnlockTab();
    void showOutcome(const std::shared_ptr<const LockOutcome> &outcome);
    void showPredictions(const LockOutcome &outcome);
    void updateZoomLayer();
    void updateActions();
    void addRecent(const QString &path);
    LockOptions currentOptions() const;

    Model m_model;
    QString m_modelPath;
    std::optional<Dataset> m_train;
    std::optional<Dataset> m_test;
    QString m_datasetName;
    std::shared_ptr<const LockOutcome> m_outcome;
    std::optional<SecretKey> m_key;
    std::optional<Model> m_unlocked;

    LockJob *m_job;
    MessageBar *m_messages;
    QTabWidget *m_tabs;
    AnalysisPage *m_analysis;
    QLabel *m_modelSummary;
    QLabel *m_datasetSummary;
    QWidget *m_samplePreview;
    LayerTableModel *m_layers;
    QSortFilterProxyModel *m_sortedLayers;
    QTableView *m_layerView;

    QComboBox *m_mode;
    QSpinBox *m_samples;
    QDoubleSpinBox *m_theta;
    QDoubleSpinBox *m_alpha;
    QDoubleSpinBox *m_lossThreshold;
    QSpinBox *m_iterations;
    QSpinBox *m_maxWeights;
    QSpinBox *m_seed;
    QButtonGroup *m_layerChoice;
    QSpinBox *m_randomLayers;
    QPushButton *m_run;
    QPushButton *m_cancel;
    QProgressBar *m_progress;
    LossChart *m_lossChart;

    QLabel *m_accuracyBefore;
    QLabel *m_accuracyAfter;
    QLabel *m_drop;
    QLabel *m_encrypted;
    WeightRangeChart *m_rangeChart;
    WeightHistogramChart *m_histogram;
    WeightHistogramChart *m_layerHistogram;
    QComboBox *m_zoomLayer;
    QGridLayout *m_predictionGrid;

    QLabel *m_keyStatus;
    QLabel *m_unlockResult;
    QPushButton *m_unlock;
    QPushButton *m_saveUnlocked;

    QAction *m_openAction;
    QAction *m_demoAction;
    QAction *m_runAction;
    QAction *m_cancelAction;
    QAction *m_saveAction;
    QAction *m_presentAction;
    QMenu *m_recentMenu;
};

} // namespace paramlock
