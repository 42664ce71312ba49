#pragma once

#include "lockworkflow.h"

#include <QWidget>

class QCheckBox;
class QComboBox;
class QProgressBar;
class QPushButton;
class QSpinBox;

namespace paramlock {

class LayerTableModel;
class LockDocument;
class LockJob;
class LossChart;
class MessageBar;
class ParameterForm;

/** "1 · Lock": choose a method, fill in its form (made from its parameter table), lock, watch the loss. */
class LockPage : public QWidget
{
    Q_OBJECT
public:
    LockPage(LockDocument *document, LayerTableModel *layers, MessageBar *messages, QWidget *parent = nullptr);

    /** Starts the lock workflow on the document's model and data; false (with a message) if it cannot. */
    bool runLock();
    void cancelLock();
    bool isRunning() const;
    LockJob *lockJob() const { return m_job; }
    /** The method a lock will use. */
    const ProtectionMethod &method() const;
    bool selectMethod(const std::string &id);
    /** Sets one of the method's parameters from text ("mode", "paper"); false if the name or value is wrong. */
    bool setParameter(const std::string &name, const std::string &value);

signals:
    void lockStarted();
    void lockFinished();
    void lockStopped();

private:
    void buildForm();
    void updateButtons();

    LockDocument *m_document;
    LayerTableModel *m_layers;
    MessageBar *m_messages;
    LockJob *m_job;
    QComboBox *m_method;
    ParameterForm *m_form;
    QSpinBox *m_seed;
    QCheckBox *m_allowUntrained;
    QPushButton *m_run;
    QPushButton *m_cancel;
    QProgressBar *m_progress;
    LossChart *m_lossChart;
};

} // namespace paramlock
