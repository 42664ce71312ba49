#pragma once

// The UI's one job shape, after Hotspot's JobTracker: a function of a Progress (the cancel flag and the progress
// events) that returns a value, run in the thread pool; its progress and its result arrive by queued calls on the
// owner's thread; cancel() flips an atomic flag the engine reads between two iterations; the destructor cancels
// and waits. Used for the lock, the analyses, dataset loading, unlocking and key sealing.

#include "expected.h"
#include "progress.h"

#include <QFuture>
#include <QMetaType>
#include <QObject>
#include <QPointer>
#include <QtConcurrent/QtConcurrentRun>

#include <functional>
#include <memory>
#include <string>

class QProgressBar;

namespace paramlock {

class Job : public QObject
{
    Q_OBJECT
public:
    explicit Job(QObject *parent = nullptr);
    ~Job() override;

    /**
     * Starts `work` in the thread pool; false if a job is already running. `done` receives the value on this
     * object's thread; an error (or a cancel) arrives as failed(). Nothing is delivered after the Job is gone.
     */
    template<typename T> bool start(std::function<Expected<T>(Progress &)> work, std::function<void(T)> done)
    {
        if (isRunning())
            return false;
        m_busy = true;
        m_sink = std::make_shared<Sink>(this);
        auto sink = m_sink;
        QPointer<Job> self(this);
        m_future = QtConcurrent::run([self, sink, work = std::move(work), done = std::move(done)]() mutable {
            auto result = std::make_shared<Expected<T>>(work(*sink));
            // The destructor waits for this worker, so the Job is alive here; a call queued to it is dropped with it.
            QMetaObject::invokeMethod(
                self.data(),
                [self, result, done = std::move(done)]() {
                    if (!self)
                        return;
                    self->m_future.waitForFinished();
                    self->m_busy = false;
                    if (result->ok())
                        done(std::move(result->value()));
                    else
                        emit self->failed(QString::fromStdString(result->error()));
                    emit self->ended();
                },
                Qt::QueuedConnection);
        });
        emit started();
        return true;
    }

    void cancel();
    /** From start() until the result (or the failure) was delivered. */
    bool isRunning() const;
    /** Blocks until the worker is done (shutdown and tests); its result is still delivered by the event loop. */
    void wait();

signals:
    void started();
    void progressChanged(double fraction, const QString &label);
    void stepDone(const paramlock::LockStep &step);
    void failed(const QString &message);
    /** After the result or the failure was delivered: the job is over. */
    void ended();

private:
    /** Forwards the engine's progress as queued signals. */
    class Sink : public Progress
    {
    public:
        explicit Sink(Job *job) : m_job(job) { }
        bool advance(double fraction, const std::string &label) override;
        bool lockStep(const LockStep &step) override;

    private:
        QPointer<Job> m_job;
    };

    std::shared_ptr<Sink> m_sink;
    QFuture<void> m_future;
    bool m_busy = false; ///< from start() until the result is delivered
};

/** Shows a job's progress on `bar` (range 0-1000) as "label — 42%"; a failure or a cancel empties the bar. */
void showProgress(Job *job, QProgressBar *bar);

} // namespace paramlock

Q_DECLARE_METATYPE(paramlock::LockStep)
