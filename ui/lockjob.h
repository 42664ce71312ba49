#pragma once

#include "advparams.h"
#include "dataset.h"
#include "model.h"
#include "progress.h"

#include <QFuture>
#include <QObject>

#include <memory>

namespace paramlock {

/** What a lock run produced, shared read-only with the views. */
struct LockOutcome
{
    LockResult result;
    double accuracyBefore = 0.0;
    double accuracyAfter = 0.0;
    int64_t testSamples = 0;
    std::vector<int32_t> predictionsBefore; ///< for the first test images
    std::vector<int32_t> predictionsAfter;
};

/**
 * Runs evaluate -> lock -> evaluate in a worker thread. Progress and every
 * lock iteration arrive as queued signals; cancel() flips an atomic flag that
 * the engine reads between two iterations. The input model is never changed.
 */
class LockJob : public QObject
{
    Q_OBJECT
public:
    explicit LockJob(QObject *parent = nullptr);
    ~LockJob() override;

    /** Starts the run; false if one is already running. */
    bool start(const Model &model, const Dataset &encryptionSet, const Dataset &test, const LockOptions &options,
        int64_t evalLimit = 0, int previewCount = 12);
    void cancel();
    bool isRunning() const;
    /** Blocks until the worker has finished (for tests and shutdown). */
    void wait();

signals:
    void progressChanged(double fraction, const QString &label);
    void stepDone(const paramlock::LockStep &step);
    void finished(std::shared_ptr<const paramlock::LockOutcome> outcome);
    void failed(const QString &message);

private:
    class Sink;
    std::shared_ptr<Sink> m_sink;
    QFuture<void> m_future;
};

} // namespace paramlock

Q_DECLARE_METATYPE(paramlock::LockStep)
Q_DECLARE_METATYPE(std::shared_ptr<const paramlock::LockOutcome>)
