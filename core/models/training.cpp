#include "training.h"

#include "batchsize.h"
#include "modelimpl.h"

#include <chrono>
#include <limits>
#include <cmath>
#include <numeric>
#include <random>

namespace paramlock {

namespace {
double secondsSince(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}
} // namespace

Expected<void> checkCompatible(const Model &model, const Dataset &data)
{
    const ModelMetadata &m = model.metadata();
    if (data.size() == 0)
        return Error{"the dataset is empty"};
    if (m.hasInputShape() && (m.channels != data.channels || m.height != data.height || m.width != data.width))
        return Error{"the model expects " + std::to_string(m.channels) + "x" + std::to_string(m.height) + "x"
            + std::to_string(m.width) + " inputs but the dataset has " + std::to_string(data.channels) + "x"
            + std::to_string(data.height) + "x" + std::to_string(data.width) + " images"};
    if (m.classCount > 0 && data.classCount > m.classCount)
        return Error{"the model has " + std::to_string(m.classCount) + " classes but the dataset has "
            + std::to_string(data.classCount)};
    return {};
}

namespace {

/** The reason in a LibTorch error, without TorchScript's traceback: its last "...Error: " line. */
std::string reasonOf(const std::string &what)
{
    std::string reason;
    size_t start = 0;
    while (start < what.size()) {
        size_t end = what.find('\n', start);
        if (end == std::string::npos)
            end = what.size();
        const std::string line = what.substr(start, end - start);
        const size_t at = line.find("Error: ");
        if (at != std::string::npos)
            reason = line.substr(at + 7);
        start = end + 1;
    }
    if (reason.empty())
        reason = what.substr(0, what.find('\n'));
    while (!reason.empty() && (reason.back() == ' ' || reason.back() == '.'))
        reason.pop_back();
    return reason;
}

/** Runs one batch of `size` images; empty on success, else the reason. */
std::string tryBatch(ModelImpl &impl, const Model &model, const Dataset &data, int64_t size)
{
    try {
        c10::InferenceMode inference;
        const auto logits = impl.forward(inputTensor(data, 0, size, model.metadata().normalization));
        if (logits.dim() != 2 || logits.size(0) != size)
            return "its output has shape " + c10::str(logits.sizes()) + ", expected [" + std::to_string(size)
                + ", classes]";
        return {};
    } catch (const c10::Error &e) {
        return reasonOf(e.what_without_backtrace());
    } catch (const std::exception &e) {
        return reasonOf(e.what());
    }
}

} // namespace

Expected<void> checkRuns(const Model &model, const Dataset &data)
{
    if (auto ok = checkCompatible(model, data); !ok)
        return ok;
    ModelImpl &impl = model.impl();
    impl.setTraining(false);
    const int64_t batch = std::min<int64_t>(2, data.size());
    const std::string failure = tryBatch(impl, model, data, batch);
    if (failure.empty())
        return {};
    const std::string shape =
        std::to_string(data.channels) + "x" + std::to_string(data.height) + "x" + std::to_string(data.width);
    if (batch > 1 && tryBatch(impl, model, data, 1).empty())
        return Error{"the model runs on one image but fails on a batch of " + std::to_string(batch) + " " + shape
            + " images (" + failure + "): it was probably exported with torch.jit.trace, which can freeze the batch "
            + "size; export it with torch.jit.script, or trace it without turning a tensor's size into a number"};
    return Error{"the model cannot run on the " + data.name + " images: a batch of " + std::to_string(batch) + " "
        + shape + " images failed (" + failure + "); the model may expect another number of channels or another "
        + "image size"};
}

Expected<void> checkFiniteWeights(const Model &model)
{
    for (const auto &w : model.impl().weights())
        if (!torch::isfinite(w.tensor).all().item<bool>())
            return Error{"the model's weight " + w.name + " contains NaN or infinite values"};
    return {};
}

Expected<Evaluation> evaluate(
    const Model &model, const Dataset &data, const EvaluationOptions &options, Progress *progress)
{
    if (auto ok = checkCompatible(model, data); !ok)
        return Error{ok.error()};
    return guarded("evaluation failed", [&]() -> Expected<Evaluation> {
        const auto start = std::chrono::steady_clock::now();
        ModelImpl &impl = model.impl();
        impl.setTraining(false);
        c10::InferenceMode inference;
        const int64_t total = options.limit > 0 ? std::min(options.limit, data.size()) : data.size();
        ForwardBatches sizes(forwardBatchKey(model), options.batchSize);
        Evaluation result;
        double lossSum = 0.0;
        if (options.keepPredictions)
            result.predictions.reserve(size_t(total));
        for (int64_t begin = 0, end = 0; begin < total; begin = end) {
            end = begin + sizes.next(total - begin);
            const auto batchStart = std::chrono::steady_clock::now();
            const auto logits = impl.forward(inputTensor(data, begin, end, model.metadata().normalization));
            const auto labels = labelTensor(data, begin, end);
            if (logits.dim() != 2 || logits.size(0) != end - begin)
                throw Failure(
                    "the model's output has shape " + c10::str(logits.sizes()) + ", expected [batch, classes]");
            if (logits.size(1) < data.classCount)
                throw Failure("the model outputs " + std::to_string(logits.size(1)) + " classes but the dataset has "
                    + std::to_string(data.classCount));
            lossSum += torch::nn::functional::cross_entropy(
                logits, labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                           .item<double>();
            const auto predicted = logits.argmax(1);
            result.correct += predicted.eq(labels).sum().item<int64_t>();
            if (options.keepPredictions) {
                const auto p = predicted.to(torch::kInt32).contiguous();
                result.predictions.insert(
                    result.predictions.end(), p.data_ptr<int32_t>(), p.data_ptr<int32_t>() + p.numel());
            }
            sizes.record(end - begin, secondsSince(batchStart));
            if (progress && !progress->advance(double(end) / double(total), "evaluating"))
                return Error{"evaluation cancelled"};
        }
        result.total = total;
        result.batchSize = sizes.chosen();
        result.accuracy = total > 0 ? double(result.correct) / double(total) : 0.0;
        result.meanLoss = total > 0 ? lossSum / double(total) : 0.0;
        result.seconds = secondsSince(start);
        return result;
    });
}

std::string forwardBatchKey(const Model &model)
{
    const ModelImpl &impl = model.impl();
    const ModelMetadata &m = impl.meta;
    std::string key = (impl.isTorchScript() ? "torchscript " : "zoo ") + m.architecture + " "
        + std::to_string(m.channels) + "x" + std::to_string(m.height) + "x" + std::to_string(m.width) + " threads "
        + std::to_string(torch::get_num_threads());
    for (const auto &module : impl.modules()) {
        for (const auto *tensors : {&module.parameters, &module.buffers})
            for (const auto &[name, t] : *tensors)
                key += " " + module.name + "." + name + c10::str(t.sizes());
    }
    return key;
}

Expected<std::vector<Prediction>> predict(const Model &model, const Dataset &images, int batchSize)
{
    if (auto ok = checkCompatible(model, images); !ok)
        return Error{ok.error()};
    return guarded("classification failed", [&]() -> Expected<std::vector<Prediction>> {
        ModelImpl &impl = model.impl();
        impl.setTraining(false);
        c10::InferenceMode inference;
        std::vector<Prediction> out;
        out.reserve(size_t(images.size()));
        ForwardBatches sizes(forwardBatchKey(model), batchSize);
        for (int64_t begin = 0, end = 0; begin < images.size(); begin = end) {
            end = begin + sizes.next(images.size() - begin);
            const auto batchStart = std::chrono::steady_clock::now();
            const auto logits = impl.forward(inputTensor(images, begin, end, model.metadata().normalization));
            if (logits.dim() != 2 || logits.size(0) != end - begin)
                throw Failure(
                    "the model's output has shape " + c10::str(logits.sizes()) + ", expected [batch, classes]");
            const torch::Tensor p = torch::softmax(logits.to(torch::kFloat), 1).contiguous();
            const auto [probability, label] = p.max(1);
            const auto all = p.accessor<float, 2>();
            for (int64_t i = 0; i < end - begin; ++i) {
                const size_t at = size_t(begin + i);
                const int truth = at < images.labels.size() ? images.labels[at] : -1;
                out.push_back({int32_t(label[i].item<int64_t>()), probability[i].item<float>(),
                    truth >= 0 && truth < p.size(1) ? all[i][truth] : 0.0f});
            }
            sizes.record(end - begin, secondsSince(batchStart));
        }
        return out;
    });
}

Expected<double> rawForwardSeconds(const Model &model, const Dataset &data, int batchSize, int64_t limit, int repeats)
{
    if (auto ok = checkCompatible(model, data); !ok)
        return Error{ok.error()};
    return guarded("measuring the forward pass failed", [&]() -> Expected<double> {
        ModelImpl &impl = model.impl();
        impl.setTraining(false);
        c10::InferenceMode inference;
        const int64_t total = limit > 0 ? std::min(limit, data.size()) : data.size();
        const int64_t batch = std::max(1, batchSize);
        std::vector<torch::Tensor> inputs;
        for (int64_t begin = 0; begin < total; begin += batch)
            inputs.push_back(inputTensor(data, begin, std::min(total, begin + batch), model.metadata().normalization));
        double best = std::numeric_limits<double>::infinity();
        for (int r = 0; r < std::max(1, repeats); ++r) {
            const auto start = std::chrono::steady_clock::now();
            for (const auto &x : inputs)
                impl.forward(x);
            best = std::min(best, secondsSince(start));
        }
        return best;
    });
}

Expected<double> accuracyOn(const Model &model, const Dataset &data, int64_t limit)
{
    EvaluationOptions options;
    options.limit = limit;
    auto eval = evaluate(model, data, options);
    if (!eval)
        return Error{eval.error()};
    return eval->accuracy;
}

TrainOptions TrainOptions::paperRecipe(const std::string &architecture)
{
    TrainOptions o;
    if (architecture == "densenet-fmnist") {
        o.epochs = 20; // SGD lr 0.1, batch 128
    } else if (architecture == "resnet56") {
        o.epochs = 200; // SGD lr 0.1, cosine annealing
    } else if (architecture == "alexnet-gtsrb") {
        o.optimizer = "adam";
        o.learningRate = 0.003;
        o.weightDecay = 0.0;
        o.epochs = 200;
    } else if (architecture == "lenet5" || architecture == "linear") {
        o.learningRate = 0.05;
        o.epochs = 10;
    }
    return o;
}

std::unique_ptr<torch::optim::Optimizer> makeOptimizer(
    ModelImpl &impl, const std::string &name, double learningRate, double weightDecay)
{
    std::vector<torch::Tensor> params;
    for (auto &p : impl.parameters()) {
        p.second.set_requires_grad(true);
        params.push_back(p.second);
    }
    if (name == "adam")
        return std::make_unique<torch::optim::Adam>(
            params, torch::optim::AdamOptions(learningRate).weight_decay(weightDecay));
    if (name == "sgd")
        return std::make_unique<torch::optim::SGD>(
            params, torch::optim::SGDOptions(learningRate).momentum(0.9).weight_decay(weightDecay));
    return nullptr;
}

std::pair<double, int64_t> trainEpoch(ModelImpl &impl, torch::optim::Optimizer &optimizer, const Dataset &data,
    const std::vector<int64_t> &order, int batchSize, const Normalization &normalization,
    const std::function<bool(int64_t)> &beforeStep)
{
    impl.setTraining(true);
    double lossSum = 0.0;
    int64_t correct = 0;
    const auto batch = size_t(std::max(1, batchSize));
    int64_t step = 0;
    for (size_t begin = 0; begin < order.size(); begin += batch, ++step) {
        if (beforeStep && !beforeStep(step))
            break;
        const size_t end = std::min(order.size(), begin + batch);
        const Dataset part = data.subset(std::vector<int64_t>(order.begin() + long(begin), order.begin() + long(end)));
        const auto x = inputTensor(part, 0, part.size(), normalization);
        const auto y = labelTensor(part, 0, part.size());
        optimizer.zero_grad();
        const auto logits = impl.forward(x);
        const auto loss = torch::nn::functional::cross_entropy(logits, y);
        loss.backward();
        optimizer.step();
        lossSum += loss.item<double>() * double(end - begin);
        correct += logits.argmax(1).eq(y).sum().item<int64_t>();
    }
    impl.setTraining(false);
    return {lossSum, correct};
}

Expected<TrainReport> train(
    Model &model, const Dataset &trainSet, const Dataset *testSet, const TrainOptions &options, Progress &progress)
{
    if (auto ok = checkCompatible(model, trainSet); !ok)
        return Error{ok.error()};
    if (options.epochs <= 0 || options.batchSize <= 0)
        return Error{"epochs and batch size must be positive"};
    return guarded("training failed", [&]() -> Expected<TrainReport> {
        const auto start = std::chrono::steady_clock::now();
        ModelImpl &impl = model.impl();
        auto optimizer = makeOptimizer(impl, options.optimizer, options.learningRate, options.weightDecay);
        if (!optimizer)
            return Error{"unknown optimizer \"" + options.optimizer + "\" (use sgd or adam)"};

        const int64_t n = options.limit > 0 ? std::min(options.limit, trainSet.size()) : trainSet.size();
        const int64_t batches = (n + options.batchSize - 1) / options.batchSize;
        const int64_t totalSteps = batches * options.epochs;
        std::mt19937_64 rng(options.seed);
        torch::manual_seed(options.seed);
        std::vector<int64_t> order(static_cast<size_t>(n));
        std::iota(order.begin(), order.end(), 0);
        const Normalization &norm = model.metadata().normalization;
        TrainReport report;
        for (int epoch = 1; epoch <= options.epochs; ++epoch) {
            const auto epochStart = std::chrono::steady_clock::now();
            std::shuffle(order.begin(), order.end(), rng);
            bool cancelled = false;
            const auto [lossSum, correct] =
                trainEpoch(impl, *optimizer, trainSet, order, options.batchSize, norm, [&](int64_t batchIndex) {
                    const int64_t done = int64_t(epoch - 1) * batches + batchIndex;
                    if (options.cosineSchedule) {
                        const double t = double(done) / double(totalSteps);
                        const double lr = 0.5 * options.learningRate * (1.0 + std::cos(M_PI * t));
                        for (auto &group : optimizer->param_groups())
                            group.options().set_lr(lr);
                    }
                    cancelled = !progress.advance(double(done + 1) / double(totalSteps),
                        "epoch " + std::to_string(epoch) + "/" + std::to_string(options.epochs));
                    return !cancelled;
                });
            if (cancelled)
                return Error{"training cancelled"};
            EpochRecord record;
            record.epoch = epoch;
            record.trainLoss = lossSum / double(n);
            record.trainAccuracy = double(correct) / double(n);
            if (testSet) {
                auto eval = evaluate(model, *testSet);
                if (!eval)
                    return Error{eval.error()};
                record.testAccuracy = eval->accuracy;
            }
            record.seconds = secondsSince(epochStart);
            report.epochs.push_back(record);
        }
        report.seconds = secondsSince(start);
        return report;
    });
}

} // namespace paramlock
