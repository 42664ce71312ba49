#include "job.h"

#include <QProgressBar>

namespace paramlock {

bool Job::Sink::advance(double fraction, const std::string &label)
{
    // Engines report per batch or iteration (tens to thousands of events): each one is delivered.
    const QString text = QString::fromStdString(label);
    QMetaObject::invokeMethod(
        m_job.data(),
        [job = m_job, fraction, text] {
            if (job)
                emit job->progressChanged(fraction, text);
        },
        Qt::QueuedConnection);
    return !cancelled();
}

bool Job::Sink::lockStep(const LockStep &step)
{
    QMetaObject::invokeMethod(
        m_job.data(),
        [job = m_job, step] {
            if (job)
                emit job->stepDone(step);
        },
        Qt::QueuedConnection);
    return !cancelled();
}

Job::Job(QObject *parent) : QObject(parent)
{
    qRegisterMetaType<paramlock::LockStep>();
}

Job::~Job()
{
    cancel();
    wait();
}

void Job::cancel()
{
    if (m_sink)
        m_sink->cancel();
}

bool Job::isRunning() const
{
    return m_busy;
}

void Job::wait()
{
    m_future.waitForFinished();
}

void showProgress(Job *job, QProgressBar *bar)
{
    bar->setRange(0, 1000);
    QObject::connect(job, &Job::progressChanged, bar, [bar](double fraction, const QString &label) {
        bar->setValue(int(fraction * 1000.0));
        bar->setFormat(label.isEmpty() ? QStringLiteral("%p%") : label + QStringLiteral(" — %p%"));
    });
    QObject::connect(job, &Job::failed, bar, [bar] {
        bar->setValue(0);
        bar->setFormat(QStringLiteral("%p%"));
    });
}

} // namespace paramlock
