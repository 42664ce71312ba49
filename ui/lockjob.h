#pragma once

#include "job.h"
#include "lockworkflow.h"

#include <QObject>

#include <memory>

namespace paramlock {

/**
 * The lock workflow (check, evaluate, lock, evaluate) as a Job: progress and every lock step arrive as queued
 * signals, cancel() takes effect between two iterations, and the input model is never changed.
 */
class LockJob : public QObject
{
    Q_OBJECT
public:
    explicit LockJob(QObject *parent = nullptr);

    /** Starts the run; false if one is already running. */
    bool start(const Model &model, std::shared_ptr<const Dataset> train, std::shared_ptr<const Dataset> test,
        const ProtectionMethod &method, const LockRequest &request, const WorkflowOptions &options);
    void cancel() { m_job->cancel(); }
    bool isRunning() const { return m_job->isRunning(); }
    /** Blocks until the worker has finished (for tests and shutdown). */
    void wait() { m_job->wait(); }

signals:
    void progressChanged(double fraction, const QString &label);
    void stepDone(const paramlock::LockStep &step);
    void finished(std::shared_ptr<const paramlock::LockOutcome> outcome);
    void failed(const QString &message);

private:
    Job *m_job;
};

} // namespace paramlock

Q_DECLARE_METATYPE(std::shared_ptr<const paramlock::LockOutcome>)
