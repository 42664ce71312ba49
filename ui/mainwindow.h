#pragma once

#include <QMainWindow>

#include <string>

class QAction;
class QLabel;
class QMenu;
class QSortFilterProxyModel;
class QTabWidget;
class QTableView;

namespace paramlock {

class AnalysisPage;
class FrontierPage;
class FingerprintPage;
class LicencePage;
class Job;
class LayerTableModel;
class LockDocument;
class LockJob;
class LockPage;
class MessageBar;
class ResultsPage;
class UnlockPage;

/**
 * The window: a model and its data on the left (the document), the pages on the right (lock, results, unlock,
 * attacks and report), the menus and toolbar. The pages do the work; the window opens files and wires them.
 */
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    /** Loads a model file; errors go to the message bar. */
    bool openModel(const QString &path);
    /** Reads a dataset folder (or "fashion-mnist") in the background; datasetLoaded() follows. */
    void openDataset(const QString &path);
    /** The shipped LeNet-5 and the Debian package's Fashion-MNIST. */
    void tryDemo();
    void runLock();
    void cancelLock();
    /** Writes the locked model and the key, sealed with `password` when one is given (sealing runs as a job). */
    bool saveLocked(
        const QString &modelPath, const QString &keyPath, const QString &password = {}, const QString &recipient = {});
    /** Unlock tab: check a key against the locked model in memory or a file; asks for a sealed key's password. */
    void checkKey(const QString &keyPath, const QString &password = {});
    /** Unlock the locked model in memory (or the opened file) with the current key. */
    void unlockInMemory();
    /** Full-screen story of the last lock for a non-technical audience. */
    void present(int firstPage = 0);
    /** Chooses the lock method by id (as on the command line); false for an unknown one. */
    bool selectMethod(const std::string &id);
    /** One of the lock method's settings, from text (for scripted demos: "mode", "paper"). */
    bool setParameter(const std::string &name, const std::string &value);

    LockJob *lockJob() const;
    MessageBar *messageBar() const { return m_messages; }
    LayerTableModel *layerModel() const { return m_layers; }
    QTabWidget *tabs() const { return m_tabs; }
    AnalysisPage *analysisPage() const { return m_analysis; }
    FrontierPage *frontierPage() const { return m_frontier; }
    LicencePage *licencePage() const { return m_licence; }
    FingerprintPage *fingerprintPage() const { return m_fingerprint; }
    LockDocument *document() const { return m_document; }

signals:
    void lockFinished();
    void unlocked();
    void datasetLoaded();
    void keyChecked(bool fits);
    void saved(bool ok);

protected:
    void closeEvent(QCloseEvent *event) override;
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;

private:
    void buildActions();
    QWidget *buildModelPanel();
    void showModel();
    void showDataset();
    void showOutcome();
    void updateActions();
    void addRecent(const QString &path);

    LockDocument *m_document;
    MessageBar *m_messages;
    QTabWidget *m_tabs;
    LayerTableModel *m_layers;
    LockPage *m_lockPage;
    ResultsPage *m_results;
    UnlockPage *m_unlockPage;
    AnalysisPage *m_analysis;
    FrontierPage *m_frontier;
    LicencePage *m_licence;
    FingerprintPage *m_fingerprint;
    Job *m_files; ///< dataset loading and key sealing

    QLabel *m_modelSummary;
    QLabel *m_datasetSummary;
    QWidget *m_samplePreview;
    QSortFilterProxyModel *m_sortedLayers;
    QTableView *m_layerView;

    QAction *m_openAction;
    QAction *m_demoAction;
    QAction *m_runAction;
    QAction *m_cancelAction;
    QAction *m_saveAction;
    QAction *m_presentAction;
    QMenu *m_recentMenu;
};

} // namespace paramlock
