// NNSplitter's obfuscation (METHODS.md §2, step 4), as the authors' code does it and with its defects fixed:
//
//   model.eval()                                       the model stays in inference mode (BatchNorm, Dropout)
//   for epoch in 1..E:                                 for (epoch <= epochs)
//       for (x, y) in the training data:               a shuffled pass over the training part of the sample
//           loss = -CE(F(x), y)                        ascent: the step below adds Adam's update
//           g = dloss/dW * mask                        the gradient gathered at the masked positions only
//           Adam step on the masked weights            adamAscend(): m, v and the bias corrections per weight
//           W_masked = clamp(W_masked, w_min, w_max)   std::clamp(..., low, high)
//       acc = accuracy on the VALIDATION split         validationAccuracy(): never the test set (the code's defect)
//       keep the lowest-accuracy state                 best, not the last epoch's (the code's defect)
//       stop after `patience` epochs without a drop    since >= patience
//
// The unmasked weights are never written: Adam runs on the masked values alone, so they stay bit for bit.
#include "internal.h"

#include "text.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <random>

namespace paramlock::nnsplitter {

namespace {

constexpr double kBeta1 = 0.9;
constexpr double kBeta2 = 0.999;
constexpr double kAdamEpsilon = 1e-8;
constexpr int64_t kEvaluationBatch = 250;

/** Adam's moments of every masked weight, in the order of the layers and their indices. */
struct AdamState
{
    std::vector<double> m, v;
    int64_t step = 0;
};

void adamAscend(std::vector<MaskedWeights> &masked, AdamState &adam, double learningRate)
{
    ++adam.step;
    const double correction1 = 1.0 - std::pow(kBeta1, double(adam.step));
    const double correction2 = 1.0 - std::pow(kBeta2, double(adam.step));
    size_t k = 0;
    torch::NoGradGuard noGrad;
    for (MaskedWeights &w : masked) {
        const torch::Tensor &grad = w.weight.grad();
        if (!grad.defined()) {
            k += w.indices.size();
            continue;
        }
        const torch::Tensor g = grad.reshape({-1}).index_select(0, w.indexTensor).contiguous();
        const float *gv = g.data_ptr<float>();
        for (size_t i = 0; i < w.indices.size(); ++i, ++k) {
            adam.m[k] = kBeta1 * adam.m[k] + (1.0 - kBeta1) * double(gv[i]);
            adam.v[k] = kBeta2 * adam.v[k] + (1.0 - kBeta2) * double(gv[i]) * double(gv[i]);
            const double update =
                learningRate * (adam.m[k] / correction1) / (std::sqrt(adam.v[k] / correction2) + kAdamEpsilon);
            float &value = w.data[w.indices[i]];
            value = std::clamp(float(double(value) + update), w.low, w.high);
        }
    }
}

std::vector<float> snapshot(const std::vector<MaskedWeights> &masked)
{
    std::vector<float> values;
    for (const MaskedWeights &w : masked)
        for (int64_t i : w.indices)
            values.push_back(w.data[i]);
    return values;
}

void write(std::vector<MaskedWeights> &masked, const std::vector<float> &values)
{
    size_t k = 0;
    for (MaskedWeights &w : masked)
        for (int64_t i : w.indices)
            w.data[i] = values[k++];
}

} // namespace

LockData lockData(const Model &model, const Dataset &sample, const NNSplitterSettings &settings)
{
    const int64_t trainCount = trainingPart(sample.size(), settings);
    const Normalization &norm = model.metadata().normalization;
    LockData data;
    data.trainInputs = inputTensor(sample, 0, trainCount, norm);
    data.trainLabels = labelTensor(sample, 0, trainCount);
    data.validInputs = inputTensor(sample, trainCount, sample.size(), norm);
    data.validLabels = labelTensor(sample, trainCount, sample.size());
    return data;
}

std::vector<MaskedWeights> maskedWeights(ModelImpl &impl, const WindowMask &mask, ClampRange range)
{
    float modelLow = 0.0f, modelHigh = 0.0f;
    bool first = true;
    for (const WeightRef &w : impl.weights()) {
        const float lo = w.tensor.min().item<float>(), hi = w.tensor.max().item<float>();
        modelLow = first ? lo : std::min(modelLow, lo);
        modelHigh = first ? hi : std::max(modelHigh, hi);
        first = false;
    }
    std::vector<MaskedWeights> out;
    for (const MaskedLayer &layer : mask.layers) {
        MaskedWeights w;
        w.layer = layer.layer;
        w.weight = impl.weight(layer.layer);
        if (!w.weight.defined())
            throw Failure("the model has no layer " + layer.layer);
        w.data = floatData(w.weight);
        w.indices = layer.indices;
        w.indexTensor = torch::tensor(w.indices, torch::kLong);
        for (int64_t i : w.indices)
            w.original.push_back(w.data[i]);
        if (range == ClampRange::Layer) {
            w.low = w.weight.min().item<float>();
            w.high = w.weight.max().item<float>();
        } else {
            w.low = modelLow;
            w.high = modelHigh;
        }
        out.push_back(std::move(w));
    }
    return out;
}

void putBackOriginals(std::vector<MaskedWeights> &masked)
{
    for (MaskedWeights &w : masked)
        for (size_t i = 0; i < w.indices.size(); ++i)
            w.data[w.indices[i]] = w.original[i];
}

double validationAccuracy(ModelImpl &impl, const LockData &data, double *loss)
{
    torch::NoGradGuard noGrad;
    const int64_t n = data.validInputs.size(0);
    int64_t correct = 0;
    double lossSum = 0.0;
    for (int64_t b = 0; b < n; b += kEvaluationBatch) {
        const int64_t e = std::min(n, b + kEvaluationBatch);
        const torch::Tensor logits = impl.forward(data.validInputs.slice(0, b, e));
        const torch::Tensor labels = data.validLabels.slice(0, b, e);
        correct += logits.argmax(1).eq(labels).sum().item<int64_t>();
        if (loss)
            lossSum += torch::nn::functional::cross_entropy(
                logits, labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                           .item<double>();
    }
    if (loss)
        *loss = n > 0 ? lossSum / double(n) : 0.0;
    return n > 0 ? double(correct) / double(n) : 0.0;
}

Expected<AscentResult> runAscent(ModelImpl &impl, std::vector<MaskedWeights> &masked, const LockData &data,
    const NNSplitterSettings &settings, int epochs, double target, uint64_t seed, Progress &progress,
    const AscentSpan &span)
{
    AscentResult result;
    int64_t total = 0;
    for (MaskedWeights &w : masked) {
        w.weight.set_requires_grad(true);
        total += int64_t(w.indices.size());
    }
    struct NoGradAfter
    {
        std::vector<MaskedWeights> &masked;
        ~NoGradAfter()
        {
            for (MaskedWeights &w : masked) {
                w.weight.mutable_grad() = torch::Tensor();
                w.weight.set_requires_grad(false);
            }
        }
    } dropGradients{masked};

    AdamState adam;
    adam.m.assign(size_t(total), 0.0);
    adam.v.assign(size_t(total), 0.0);
    std::mt19937_64 rng(seed);
    const int64_t n = data.trainCount();
    const int64_t batch = std::max(1, settings.batchSize);
    const int64_t batchesPerEpoch = (n + batch - 1) / batch;

    auto record = [&](int epoch, double trainLoss, double validationLoss, double accuracy, double seconds) {
        result.epochs.push_back({epoch, trainLoss, validationLoss, accuracy, seconds});
        if (!span.reportEpochs)
            return true;
        LockStep step;
        step.iteration = span.epochOffset + epoch;
        step.stageIndex = span.attempt;
        step.stage = (span.attempt > 0 ? "attempt " + std::to_string(span.attempt + 1) + ", " : std::string())
            + (epoch == 0 ? "before" : "epoch " + std::to_string(epoch));
        step.loss = validationLoss;
        step.accuracy = accuracy;
        step.changed = total;
        return progress.lockStep(step);
    };

    double validationLoss = 0.0;
    result.bestAccuracy = validationAccuracy(impl, data, &validationLoss);
    if (!record(0, 0.0, validationLoss, result.bestAccuracy, 0.0))
        return Error{"locking cancelled"};
    std::vector<float> best = snapshot(masked);
    int since = 0;
    result.stop = "the epoch limit (" + std::to_string(epochs) + ") was reached";
    for (int epoch = 1; epoch <= epochs; ++epoch) {
        const auto start = std::chrono::steady_clock::now();
        std::vector<int64_t> order(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i)
            order[size_t(i)] = i;
        std::shuffle(order.begin(), order.end(), rng);
        const torch::Tensor perm = torch::tensor(order, torch::kLong);
        double lossSum = 0.0;
        for (int64_t b = 0, k = 0; b < n; b += batch, ++k) {
            const double fraction = (double(epoch - 1) + double(k) / double(batchesPerEpoch)) / double(epochs);
            if (!progress.advance(span.base + span.span * fraction, span.label))
                return Error{"locking cancelled"};
            const torch::Tensor idx = perm.slice(0, b, std::min(n, b + batch));
            for (MaskedWeights &w : masked)
                w.weight.mutable_grad() = torch::Tensor();
            const torch::Tensor loss = torch::nn::functional::cross_entropy(
                impl.forward(data.trainInputs.index_select(0, idx)), data.trainLabels.index_select(0, idx));
            loss.backward();
            lossSum += loss.item<double>() * double(idx.size(0));
            adamAscend(masked, adam, settings.learningRate);
        }
        const double accuracy = validationAccuracy(impl, data, &validationLoss);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (!record(epoch, lossSum / double(std::max<int64_t>(1, n)), validationLoss, accuracy, seconds))
            return Error{"locking cancelled"};
        if (accuracy < result.bestAccuracy) {
            result.bestAccuracy = accuracy;
            result.bestEpoch = epoch;
            best = snapshot(masked);
            since = 0;
        } else {
            ++since;
        }
        if (result.bestEpoch > 0 && result.bestAccuracy <= target) {
            result.stop = "the validation accuracy reached " + percentText(result.bestAccuracy, 1) + ", at most the "
                + "target " + percentText(target, 1) + ", after " + std::to_string(epoch) + " epoch"
                + (epoch == 1 ? "" : "s");
            break;
        }
        if (since >= settings.patience) {
            result.stop = "the validation accuracy did not drop further for " + std::to_string(since) + " epochs ("
                + percentText(result.bestAccuracy, 1) + " at epoch " + std::to_string(result.bestEpoch) + ")";
            break;
        }
    }
    write(masked, best);
    return result;
}

} // namespace paramlock::nnsplitter
