#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>

namespace paramlock {

/** One step of a lock (an iteration or an epoch, as the method counts them), as reported to the progress sink. */
struct LockStep
{
    int iteration = 0; ///< 0-based, over the whole run
    int stageIndex = 0; ///< which stage of the lock (AdvParams: the layer's position in the set)
    std::string stage; ///< its name, e.g. "features.0.weight" or "epoch 3"
    int64_t index = -1; ///< the weight this step changed, flat in `stage` (-1: none, or many)
    double change = 0.0; ///< what the step added to it
    double loss = 0.0; ///< the method's objective on its own data, before the step
    double accuracy = -1.0; ///< accuracy on the method's own data, where it measures one; -1 otherwise
    double targetAccuracy = -1.0; ///< where the lock stops on that accuracy, if it does; -1 otherwise
    int64_t changed = 0; ///< distinct weights changed so far
};

/**
 * Receives progress from long jobs and answers "keep going?".
 * Cancellation is an atomic flag so that another thread can set it directly;
 * jobs check it between two iterations.
 */
class Progress
{
public:
    virtual ~Progress() = default;

    /** Overall progress in [0, 1] with a short label. Return false to stop. */
    virtual bool advance(double fraction, const std::string &label)
    {
        (void)fraction;
        (void)label;
        return !cancelled();
    }

    /** One step of a lock. Return false to stop. */
    virtual bool lockStep(const LockStep &step)
    {
        (void)step;
        return !cancelled();
    }

    void cancel() { m_cancelled.store(true); }
    virtual bool cancelled() const { return m_cancelled.load(); }

private:
    std::atomic_bool m_cancelled{false};
};

/**
 * A stretch [from, to] of a parent's progress, for one part of a longer job: its fractions are mapped into the
 * stretch and its labels prefixed; cancelling the parent cancels it. A lock's steps are passed on only when asked
 * (a job that locks several models reports none of their steps).
 */
class ProgressSpan : public Progress
{
public:
    enum class Steps { Drop, PassOn };
    ProgressSpan(Progress &parent, double from, double to, std::string prefix, Steps steps = Steps::Drop)
        : m_parent(parent), m_from(from), m_to(to), m_prefix(std::move(prefix)), m_steps(steps)
    { }
    bool lockStep(const LockStep &step) override
    {
        if (m_steps == Steps::PassOn)
            return m_parent.lockStep(step) && !cancelled();
        return !cancelled();
    }
    bool advance(double fraction, const std::string &label) override
    {
        const double f = fraction < 0.0 ? 0.0 : fraction > 1.0 ? 1.0 : fraction;
        const std::string text = label.empty() ? m_prefix : m_prefix.empty() ? label : m_prefix + ": " + label;
        return m_parent.advance(m_from + (m_to - m_from) * f, text) && !cancelled();
    }
    bool cancelled() const override { return Progress::cancelled() || m_parent.cancelled(); }

private:
    Progress &m_parent;
    double m_from, m_to;
    std::string m_prefix;
    Steps m_steps;
};

} // namespace paramlock
