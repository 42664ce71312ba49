// The encryption-set pass both modes run every iteration: the encryption set in chunks (50 images by default: the
// activations of a DenseNet fall out of the cache in larger ones), the activations below the changed layers
// computed once, and the loss, its gradient and the accuracy from one forward pass.
#include "lockrun.h"

#include <algorithm>
#include <limits>
#include <optional>

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

/** How far each sample is from being misclassified: z_best_other - z_true (positive: wrong). */
torch::Tensor rawMargin(const torch::Tensor &logits, const torch::Tensor &labels)
{
    const auto trueLogit = logits.gather(1, labels.unsqueeze(1)).squeeze(1);
    const auto others = logits.scatter(1, labels.unsqueeze(1), -std::numeric_limits<float>::infinity());
    return std::get<0>(others.max(1)) - trueLogit;
}

/**
 * The margin, capped at kMarginCap. Samples that are already wrong by the cap add no gradient, so the search spends
 * its steps on the samples the model still gets right rather than making wrong answers more confident, as
 * cross-entropy would.
 */
torch::Tensor cappedMargin(const torch::Tensor &logits, const torch::Tensor &labels)
{
    return rawMargin(logits, labels).clamp_max(kMarginCap);
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
    g.accuracy = step.accuracy;
    g.targetAccuracy = run.targetAccuracy;
    for (const LayerState &l : run.layers)
        g.changed += int64_t(l.originals.size());
    return g;
}

} // namespace

double lossGradientAccuracy(LockRun &run, int64_t *correct, bool withGradient)
{
    // Dropped rather than zeroed: the first chunk's backward then hands its gradient over without an addition.
    for (LayerState &l : run.layers)
        l.weight.mutable_grad() = torch::Tensor();
    double loss = 0.0;
    int64_t right = 0;
    for (size_t i = 0; i < run.chunks.size(); ++i) {
        const Chunk &c = run.chunks[i];
        const auto logits = chunkLogits(run, i);
        auto l = torch::nn::functional::cross_entropy(
                     logits, c.labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
            / double(run.total);
        if (withGradient)
            l.backward();
        loss += l.item<double>();
        right += logits.argmax(1).eq(c.labels).sum().item<int64_t>();
    }
    if (correct)
        *correct = right;
    return loss;
}

SetScores scoreSet(LockRun &run, bool withGradient)
{
    // Dropped rather than zeroed: the first chunk's backward then hands its gradient over without an addition.
    for (LayerState &l : run.layers)
        l.weight.mutable_grad() = torch::Tensor();
    std::optional<torch::NoGradGuard> noGrad;
    if (!withGradient)
        noGrad.emplace();
    SetScores scores;
    scores.rawMargins.reserve(size_t(run.total));
    for (size_t i = 0; i < run.chunks.size(); ++i) {
        const Chunk &c = run.chunks[i];
        const auto logits = chunkLogits(run, i);
        const auto raw = rawMargin(logits, c.labels);
        const auto capped = raw.clamp_max(kMarginCap).sum() / double(run.total);
        if (withGradient)
            capped.backward();
        scores.margin += capped.item<double>();
        scores.loss += (torch::nn::functional::cross_entropy(
                            logits, c.labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
            / double(run.total))
                           .item<double>();
        scores.correct += logits.argmax(1).eq(c.labels).sum().item<int64_t>();
        const auto values = raw.detach().contiguous();
        const float *v = values.data_ptr<float>();
        scores.rawMargins.insert(scores.rawMargins.end(), v, v + values.numel());
    }
    return scores;
}

SampleScope::SampleScope(LockRun &run, const std::vector<int64_t> &positions)
    : run_(run), chunks_(std::move(run.chunks)), cached_(std::move(run.cached)), total_(run.total)
{
    // Where each position lies: chunk and row.
    const int64_t chunkSize = chunks_.empty() ? 1 : chunks_.front().labels.size(0);
    const int64_t batch = std::max<int64_t>(1, chunkSize);
    run.chunks.clear();
    run.cached.clear();
    run.total = int64_t(positions.size());
    for (size_t begin = 0; begin < positions.size(); begin += size_t(batch)) {
        const size_t end = std::min(positions.size(), begin + size_t(batch));
        std::vector<torch::Tensor> inputs, labels, cached;
        for (size_t k = begin; k < end; ++k) {
            const int64_t chunk = positions[k] / chunkSize, row = positions[k] % chunkSize;
            inputs.push_back(chunks_[size_t(chunk)].inputs.narrow(0, row, 1));
            labels.push_back(chunks_[size_t(chunk)].labels.narrow(0, row, 1));
            if (!cached_.empty())
                cached.push_back(cached_[size_t(chunk)].narrow(0, row, 1));
        }
        run.chunks.push_back({torch::cat(inputs), torch::cat(labels)});
        if (!cached.empty())
            run.cached.push_back(torch::cat(cached));
    }
}

SampleScope::~SampleScope()
{
    run_.chunks = std::move(chunks_);
    run_.cached = std::move(cached_);
    run_.total = total_;
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
