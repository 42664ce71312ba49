#include "lockjob.h"

namespace paramlock {

LockJob::LockJob(QObject *parent) : QObject(parent), m_job(new Job(this))
{
    qRegisterMetaType<std::shared_ptr<const paramlock::LockOutcome>>();
    connect(m_job, &Job::progressChanged, this, &LockJob::progressChanged);
    connect(m_job, &Job::stepDone, this, &LockJob::stepDone);
    connect(m_job, &Job::failed, this, &LockJob::failed);
}

bool LockJob::start(const Model &model, std::shared_ptr<const Dataset> train, std::shared_ptr<const Dataset> test,
    const ProtectionMethod &method, const LockRequest &request, const WorkflowOptions &options)
{
    const ProtectionMethod *m = &method;
    WorkflowOptions copy = options;
    copy.inPlace = false; // the window keeps showing the original
    return m_job->start<std::shared_ptr<const LockOutcome>>(
        [model, train, test, m, request, copy](Progress &progress) -> Expected<std::shared_ptr<const LockOutcome>> {
            Model input = model;
            auto outcome = runLockWorkflow(input, *train, *test, *m, request, copy, progress);
            if (!outcome)
                return Error{outcome.error()};
            return std::shared_ptr<const LockOutcome>(std::make_shared<LockOutcome>(std::move(*outcome)));
        },
        [this](std::shared_ptr<const LockOutcome> outcome) { emit finished(outcome); });
}

} // namespace paramlock
