#include "lockjob.h"

#include "training.h"

#include <QPointer>
#include <QtConcurrent/QtConcurrentRun>

namespace paramlock {

/** Forwards engine progress to the job's signals across threads. */
class LockJob::Sink : public Progress
{
public:
    explicit Sink(LockJob *job) : m_job(job) { }

    bool advance(double fraction, const std::string &label) override
    {
        const QString text = QString::fromStdString(label);
        QMetaObject::invokeMethod(
            m_job,
            [job = m_job, fraction, text] {
                if (job)
                    emit job->progressChanged(fraction, text);
            },
            Qt::QueuedConnection);
        return !cancelled();
    }

    bool lockStep(const LockStep &step) override
    {
        QMetaObject::invokeMethod(
            m_job,
            [job = m_job, step] {
                if (job)
                    emit job->stepDone(step);
            },
            Qt::QueuedConnection);
        return !cancelled();
    }

private:
    QPointer<LockJob> m_job;
};

LockJob::LockJob(QObject *parent) : QObject(parent)
{
    qRegisterMetaType<paramlock::LockStep>();
    qRegisterMetaType<std::shared_ptr<const paramlock::LockOutcome>>();
}

LockJob::~LockJob()
{
    cancel();
    wait();
}

bool LockJob::start(const Model &model, const Dataset &encryptionSet, const Dataset &test, const LockOptions &options,
    int64_t evalLimit, int previewCount)
{
    if (isRunning())
        return false;
    m_sink = std::make_shared<Sink>(this);
    auto sink = m_sink;
    QPointer<LockJob> self(this);
    m_future = QtConcurrent::run([=]() {
        auto fail = [&](const std::string &message) {
            QMetaObject::invokeMethod(
                self,
                [self, message] {
                    if (self)
                        emit self->failed(QString::fromStdString(message));
                },
                Qt::QueuedConnection);
        };
        auto outcome = std::make_shared<LockOutcome>();
        EvaluationOptions eval;
        eval.limit = evalLimit;
        eval.keepPredictions = true;
        auto before = evaluate(model, test, eval, sink.get());
        if (!before)
            return fail(before.error());
        auto locked = lockModel(model, encryptionSet, options, *sink);
        if (!locked)
            return fail(locked.error());
        auto after = evaluate(locked->locked, test, eval, sink.get());
        if (!after)
            return fail(after.error());
        outcome->result = std::move(*locked);
        outcome->accuracyBefore = before->accuracy;
        outcome->accuracyAfter = after->accuracy;
        outcome->testSamples = after->total;
        const auto n = size_t(std::min<int64_t>(previewCount, after->total));
        outcome->predictionsBefore.assign(before->predictions.begin(), before->predictions.begin() + long(n));
        outcome->predictionsAfter.assign(after->predictions.begin(), after->predictions.begin() + long(n));
        std::shared_ptr<const LockOutcome> done = outcome;
        QMetaObject::invokeMethod(
            self,
            [self, done] {
                if (self)
                    emit self->finished(done);
            },
            Qt::QueuedConnection);
    });
    return true;
}

void LockJob::cancel()
{
    if (m_sink)
        m_sink->cancel();
}

bool LockJob::isRunning() const
{
    return m_future.isRunning();
}

void LockJob::wait()
{
    m_future.waitForFinished();
}

} // namespace paramlock
