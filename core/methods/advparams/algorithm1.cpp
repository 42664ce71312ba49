// AdvParams Algorithm 1 (Xue et al., IEEE TETC 2022), as the paper writes it. Each line of the pseudo-code and
// where it is below:
//
//   for each layer l in L:                                   for (layer : run.layers)
//       Mask = ones(shape of W_l)                            layer.excluded, empty: no weight is masked yet
//       repeat I times:                                      for (it < I)
//           loss = CE(F, D_e)                                lossGradientAccuracy(): mean over the chunks of D_e
//           if loss > T_loss: stop, model is encrypted       if (step.loss > T_loss) return
//           g = dLoss/dW_l * Mask                            layer.gradient(), masked positions skipped by the search
//           t = argmax |g|                                   steepestEligible()
//           eta = theta * sign(g_t) * (max W_l - min W_l)    eta
//           if w_t + eta outside [T1, T2]: Mask_t = 0        excludePosition()
//           w_t = clip(w_t + eta, T1, T2)                    setWeight(std::clamp(...))
//           record (l, t, applied perturbation)              report(); the key is built from every touched weight
//   T1 = min W_l + alpha * (max W_l - min W_l)               rep.lowerBound (lock.cpp, before the first step)
//   T2 = max W_l - alpha * (max W_l - min W_l)               rep.upperBound
//
// min and max are the layer's before encryption. A weight that stays inside the range may be picked again; its
// perturbations add up in the key.
#include "lockrun.h"

#include <algorithm>

namespace paramlock::advparams {

Expected<void> runPaperMode(LockRun &run)
{
    const AdvParamsSettings &s = run.settings;
    AdvParamsLock &result = run.result;
    const int totalIterations = int(run.layers.size()) * s.maxIterations;
    for (size_t li = 0; li < run.layers.size(); ++li) {
        LayerState &layer = run.layers[li];
        LayerLockReport &rep = layer.report;
        const double range = double(rep.max) - double(rep.min);
        layer.weight.set_requires_grad(true);
        startAt(run, run.impl.stageOf(rep.layer));
        for (int it = 0; it < s.maxIterations; ++it) {
            if (run.progress.cancelled())
                return Error{"locking cancelled"};
            AdvParamsStep step;
            step.iteration = result.iterations;
            step.layerIndex = int(li);
            step.layer = rep.layer;
            step.loss = lossGradientAccuracy(run, nullptr);
            if (result.iterations == 0)
                result.initialLoss = step.loss;
            if (step.loss > s.lossThreshold) {
                result.reachedTarget = true;
                result.finalLoss = step.loss;
                announce(run, step);
                return {};
            }
            const float *gradient = layer.gradient();
            const Steepest steepest = gradient ? steepestEligible(gradient, layer.eligibility()) : Steepest{};
            const int64_t t = steepest.index;
            const float gt = steepest.gradient;
            if (t < 0 || gt == 0.0f) {
                result.notes.push_back(rep.layer + ": no weight with a non-zero gradient is left");
                break;
            }
            const double eta = s.theta * (gt > 0.0f ? 1.0 : -1.0) * range;
            const float old = layer.data[t];
            const double candidate = double(old) + eta;
            step.masked = candidate < rep.lowerBound || candidate > rep.upperBound;
            if (step.masked)
                excludePosition(layer.excluded, t);
            const float updated = float(std::clamp(candidate, rep.lowerBound, rep.upperBound));
            setWeight(layer, t, updated);
            step.flatIndex = t;
            step.value = updated;
            step.step = double(updated) - double(old);
            ++result.iterations;
            ++rep.steps;
            if (!report(run, step, double(result.iterations) / double(totalIterations)))
                return Error{"locking cancelled"};
        }
        layer.weight.set_requires_grad(false);
    }
    result.finalLoss = -1.0; // measured by the caller
    return {};
}

} // namespace paramlock::advparams
