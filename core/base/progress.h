#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace paramlock {

/** One iteration of the encryption loop, as reported to the progress sink. */
struct LockStep
{
    int iteration = 0; ///< 0-based, over the whole run
    int layerIndex = 0; ///< position in the encrypted layer set
    std::string layer; ///< parameter name, e.g. "features.0.weight"
    int64_t flatIndex = -1; ///< weight picked in this iteration (-1: none, loss above threshold)
    double step = 0.0; ///< perturbation applied this iteration (after clipping)
    double loss = 0.0; ///< cross-entropy on the encryption set before the step
    bool masked = false; ///< the weight hit the clip bound and will not be picked again
    float value = 0.0f; ///< the weight's value after the step
    int64_t partnerIndex = -1; ///< strong mode: the weight swapped with it, in the same layer
    float partnerValue = 0.0f; ///< and its value after the swap
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

    /** One encryption iteration. Return false to stop. */
    virtual bool lockStep(const LockStep &step)
    {
        (void)step;
        return !cancelled();
    }

    void cancel() { m_cancelled.store(true); }
    bool cancelled() const { return m_cancelled.load(); }

private:
    std::atomic_bool m_cancelled{false};
};

} // namespace paramlock
