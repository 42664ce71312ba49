// The encryption-set pass both modes run every iteration: the encryption set in chunks (50 images by default: the
// activations of a DenseNet fall out of the cache in larger ones), the activations below the changed layers
// computed once, and the loss, its gradient and the accuracy from one forward pass.
#include "lockrun.h"

#include <algorithm>
#include <limits>

namespace paramlock::advparams {

const float *LayerState::gradient() const
{
    const auto &g = weight.grad();
    if (!g.defined())
        return nullptr;
    if (!g.is_contiguous() || g.scalar_type() != torch::kFloat32)
        throw Failure("internal error: the gradient of " + report.layer + " is not a contiguous float tensor");
    return g.data_ptr<float>();
}

std::vector<Chunk> makeChunks(const Model &model, const Dataset &data, int batchSize)
{
    std::vector<Chunk> chunks;
    const int64_t batch = std::max(1, batchSize);
    for (int64_t begin = 0; begin < data.size(); begin += batch) {
        const int64_t end = std::min(data.size(), begin + batch);
        chunks.push_back(
            {inputTensor(data, begin, end, model.metadata().normalization), labelTensor(data, begin, end)});
    }
    return chunks;
}

void startAt(LockRun &run, int stage)
{
    if (!run.reuseActivations || stage == run.startStage)
        return;
    run.cached.clear();
    run.startStage = stage;
    if (stage == 0)
        return;
    torch::NoGradGuard noGrad;
    for (const Chunk &c : run.chunks)
        run.cached.push_back(run.impl.forwardStages(c.inputs, 0, stage));
}

namespace {

torch::Tensor chunkLogits(LockRun &run, size_t chunk)
{
    if (run.startStage == 0)
        return run.impl.forward(run.chunks[chunk].inputs);
    return run.impl.forwardStages(run.cached[chunk], run.startStage, run.impl.stageCount());
}

/**
 * How far each sample is from being misclassified, capped: z_best_other - z_true, at most kMarginCap. Samples that
 * are already wrong by the cap add no gradient, so the search spends its steps on the samples the model still gets
 * right rather than making wrong answers more confident, as cross-entropy would.
 */
constexpr double kMarginCap = 2.0;

torch::Tensor cappedMargin(const torch::Tensor &logits, const torch::Tensor &labels)
{
    const auto trueLogit = logits.gather(1, labels.unsqueeze(1)).squeeze(1);
    const auto others = logits.scatter(1, labels.unsqueeze(1), -std::numeric_limits<float>::infinity());
    return (std::get<0>(others.max(1)) - trueLogit).clamp_max(kMarginCap);
}

LockStep generic(const LockRun &run, const AdvParamsStep &step)
{
    LockStep g;
    g.iteration = step.iteration;
    g.stageIndex = step.layerIndex;
    g.stage = step.layer;
    g.index = step.flatIndex;
    g.change = step.step;
    g.loss = step.loss;
    for (const LayerState &l : run.layers)
        g.changed += int64_t(l.originals.size());
    return g;
}

} // namespace

double lossGradientAccuracy(LockRun &run, int64_t *correct, bool withGradient, double *margin)
{
    // Dropped rather than zeroed: the first chunk's backward then hands its gradient over without an addition.
    for (LayerState &l : run.layers)
        l.weight.mutable_grad() = torch::Tensor();
    double loss = 0.0, marginSum = 0.0;
    int64_t right = 0;
    for (size_t i = 0; i < run.chunks.size(); ++i) {
        const Chunk &c = run.chunks[i];
        const auto logits = chunkLogits(run, i);
        auto l = torch::nn::functional::cross_entropy(
                     logits, c.labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
            / double(run.total);
        if (withGradient && run.marginObjective) {
            const auto m = cappedMargin(logits, c.labels).sum() / double(run.total);
            m.backward();
            marginSum += m.item<double>();
        } else if (withGradient) {
            l.backward();
        }
        loss += l.item<double>();
        right += logits.argmax(1).eq(c.labels).sum().item<int64_t>();
    }
    if (correct)
        *correct = right;
    if (margin)
        *margin = marginSum;
    return loss;
}

double marginNow(LockRun &run)
{
    torch::NoGradGuard noGrad;
    double sum = 0.0;
    for (size_t i = 0; i < run.chunks.size(); ++i)
        sum += (cappedMargin(chunkLogits(run, i), run.chunks[i].labels).sum() / double(run.total)).item<double>();
    return sum;
}

std::vector<torch::Tensor> activationsAt(LockRun &run, int stage, const std::vector<torch::Tensor> *from, int fromStage)
{
    torch::NoGradGuard noGrad;
    std::vector<torch::Tensor> out;
    for (size_t i = 0; i < run.chunks.size(); ++i) {
        if (from)
            out.push_back(run.impl.forwardStages((*from)[i], fromStage, stage));
        else if (run.startStage == 0)
            out.push_back(run.impl.forwardStages(run.chunks[i].inputs, 0, stage));
        else
            out.push_back(run.impl.forwardStages(run.cached[i], run.startStage, stage));
    }
    return out;
}

double marginFrom(LockRun &run, int stage, const std::vector<torch::Tensor> &inputs)
{
    torch::NoGradGuard noGrad;
    double sum = 0.0;
    for (size_t i = 0; i < run.chunks.size(); ++i) {
        const auto logits = run.impl.forwardStages(inputs[i], stage, run.impl.stageCount());
        sum += (cappedMargin(logits, run.chunks[i].labels).sum() / double(run.total)).item<double>();
    }
    return sum;
}

bool report(LockRun &run, const AdvParamsStep &step, double fraction)
{
    run.result.steps.push_back(step);
    return run.progress.lockStep(generic(run, step))
        && run.progress.advance(std::min(1.0, fraction), "encrypting " + step.layer);
}

void announce(LockRun &run, const AdvParamsStep &step)
{
    run.progress.lockStep(generic(run, step));
}

void setWeight(LayerState &layer, int64_t index, float value)
{
    layer.originals.emplace(index, layer.data[index]);
    torch::NoGradGuard noGrad;
    layer.data[index] = value;
}

} // namespace paramlock::advparams
