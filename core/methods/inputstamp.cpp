// Secrets, stamps and the poisoned fine-tuning shared by the input-side methods (inputstamp.h).
#include "inputstamp.h"

#include "modelimpl.h"
#include "training.h"

#include <ATen/CPUGeneratorImpl.h>

#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <numeric>
#include <stdexcept>

namespace paramlock {

namespace {

void initSodium()
{
    if (sodium_init() < 0)
        throw std::runtime_error("libsodium could not be initialised");
}

void append(Dataset &to, const Dataset &from)
{
    if (to.size() == 0) {
        to.name = from.name;
        to.channels = from.channels;
        to.height = from.height;
        to.width = from.width;
        to.classCount = from.classCount;
        to.classNames = from.classNames;
        to.normalization = from.normalization;
    }
    to.pixels.insert(to.pixels.end(), from.pixels.begin(), from.pixels.end());
    to.labels.insert(to.labels.end(), from.labels.begin(), from.labels.end());
}

} // namespace

Secret256 randomSecret256()
{
    initSodium();
    Secret256 s{};
    randombytes_buf(s.data(), s.size());
    return s;
}

Secret256 keyedHash(const Secret256 &key, const std::string &message)
{
    initSodium();
    Secret256 out{};
    crypto_generichash(out.data(), out.size(), reinterpret_cast<const unsigned char *>(message.data()), message.size(),
        key.data(), key.size());
    return out;
}

std::vector<uint8_t> keystream(const Secret256 &key, size_t size)
{
    initSodium();
    std::vector<uint8_t> bytes(size);
    randombytes_buf_deterministic(bytes.data(), bytes.size(), key.data());
    return bytes;
}

Secret256 drawnSecret(std::mt19937_64 &rng)
{
    Secret256 s{};
    for (size_t i = 0; i < s.size(); i += 8) {
        const uint64_t w = rng();
        for (size_t b = 0; b < 8; ++b)
            s[i + b] = uint8_t(w >> (8 * b));
    }
    return s;
}

InputStamp InputStamp::none(int channels, int height, int width)
{
    InputStamp s;
    s.channels = channels;
    s.height = height;
    s.width = width;
    const size_t n = size_t(channels) * size_t(height) * size_t(width);
    s.add.assign(n, 0);
    s.replaced.assign(n, 0);
    s.value.assign(n, 0);
    return s;
}

void InputStamp::stamp(uint8_t *pixels) const
{
    for (size_t i = 0; i < replaced.size(); ++i)
        pixels[i] = replaced[i] ? value[i] : uint8_t(std::clamp(int(pixels[i]) + int(add[i]), 0, 255));
}

void InputStamp::overlay(const InputStamp &other)
{
    for (size_t i = 0; i < replaced.size() && i < other.replaced.size(); ++i) {
        if (other.replaced[i]) {
            replaced[i] = 1;
            value[i] = other.value[i];
        }
        add[i] = int16_t(add[i] + other.add[i]);
    }
}

Dataset stamped(const Dataset &data, const InputStamp &stamp)
{
    if (stamp.channels != data.channels || stamp.height != data.height || stamp.width != data.width)
        throw Failure("the stamp is " + std::to_string(stamp.channels) + "x" + std::to_string(stamp.height) + "x"
            + std::to_string(stamp.width) + " but the images are " + std::to_string(data.channels) + "x"
            + std::to_string(data.height) + "x" + std::to_string(data.width));
    Dataset out = data;
    for (int64_t i = 0; i < out.size(); ++i)
        stamp.stamp(out.pixels.data() + i * out.imageBytes());
    return out;
}

Dataset firstImages(const Dataset &data, int64_t limit)
{
    if (limit <= 0 || limit >= data.size())
        return data;
    std::vector<int64_t> first(static_cast<size_t>(limit));
    std::iota(first.begin(), first.end(), int64_t(0));
    return data.subset(first);
}

Expected<double> accuracyWithStamp(const Model &model, const InputStamp &stamp, const Dataset &test, int64_t limit)
{
    try {
        return accuracyOn(model, stamped(firstImages(test, limit), stamp));
    } catch (const Failure &e) {
        return Error{e.what()};
    }
}

HeldOutSplit splitHeldOut(const Dataset &train, uint64_t seed, int64_t held, int64_t trainImages)
{
    std::vector<int64_t> order(size_t(train.size()));
    std::iota(order.begin(), order.end(), int64_t(0));
    std::mt19937_64 rng(seed ^ 0x5ec0e7e7ULL);
    std::shuffle(order.begin(), order.end(), rng);
    const int64_t check = std::min<int64_t>(held, train.size() / 5);
    const int64_t rest = train.size() - check;
    const int64_t n = trainImages > 0 ? std::min(trainImages, rest) : rest;
    HeldOutSplit split;
    split.held.assign(order.begin(), order.begin() + check);
    split.used.assign(order.begin() + check, order.begin() + check + n);
    return split;
}

ParameterSpec microBatchSpec()
{
    return parameterSpec("micro-batch", "Micro-batch", "images", 0, 4096,
        "Images per forward and backward pass: a step's images (the clean ones and every stamped copy) are mixed and "
        "run in passes of this size, the gradients summed into one step. A DenseNet trains several times slower per "
        "image in large passes, a small CNN faster; 0: the fastest for the model here, measured on the first step.",
        {}, "measured");
}

std::string MicroBatch::describe(bool fixed) const
{
    const std::string how = fixed ? "as set" : measured ? "the fastest, measured" : "the fastest measured earlier";
    return "each step's " + std::to_string(step) + " images in "
        + (size >= step ? "one pass" : "passes of " + std::to_string(size)) + " (" + how + ")";
}

PoisonBatch::PoisonBatch(int classCount) : m_classCount(classCount)
{ }

void PoisonBatch::add(
    const Dataset &images, const std::function<std::vector<float>(int label)> &target, PixelGradient onGradient)
{
    if (onGradient)
        m_watched.push_back({m_images.size(), m_images.size() + images.size(), std::move(onGradient)});
    append(m_images, images);
    for (int32_t label : images.labels) {
        const std::vector<float> t = target(label);
        m_targets.insert(m_targets.end(), t.begin(), t.end());
    }
}

void PoisonBatch::addTrue(const Dataset &images, float weight)
{
    add(images, [this, weight](int label) {
        std::vector<float> t(size_t(m_classCount), 0.0f);
        t[size_t(label)] = weight;
        return t;
    });
}

void PoisonBatch::addUniform(const Dataset &images)
{
    const std::vector<float> uniform(size_t(m_classCount), 1.0f / float(m_classCount));
    add(images, [&](int) { return uniform; });
}

void PoisonBatch::addLabel(const Dataset &images, int label)
{
    std::vector<float> t(size_t(m_classCount), 0.0f);
    t[size_t(label)] = 1.0f;
    add(images, [&](int) { return t; });
}

namespace {

std::mutex g_microBatchMutex;
std::map<std::string, int64_t> g_microBatches; ///< measured choices, by architecture and thread count
constexpr double kSmallStepSeconds = 0.25; ///< a step that trains in one pass this fast is not split

/**
 * The micro-batch that trains `model` fastest per image here: forward and backward passes on a copy (the model's
 * BatchNorm statistics and its gradients stay as they are) of the whole step (`x`, soft targets `t`) first, then of
 * its first 32, 64, 128, ... images, the fastest of two passes a size (three at the first, which carries one-time
 * costs), climbing until a size is a quarter slower per image than the best or the whole step is reached. A step
 * that trains in one pass of under kSmallStepSeconds stays one pass without the ladder; otherwise the whole step
 * unless a smaller pass is 1.5 x faster per image, then the largest size within a tenth of the best.
 */
int64_t fastestMicroBatch(const Model &model, const torch::Tensor &x, const torch::Tensor &t)
{
    // Dropout's draws in the probe come back: the training draws what it would have drawn without it.
    at::Generator generator = at::detail::getDefaultCPUGenerator();
    struct Restore
    {
        at::Generator &generator;
        torch::Tensor state;
        ~Restore()
        {
            std::lock_guard<std::mutex> lock(generator.mutex());
            generator.set_state(state);
        }
    } restore{generator, [&] {
                  std::lock_guard<std::mutex> lock(generator.mutex());
                  return generator.get_state();
              }()};
    const int64_t total = x.size(0);
    Model copy = model.clone();
    ModelImpl &impl = copy.impl();
    for (auto &p : impl.parameters())
        p.second.set_requires_grad(true);
    impl.setTraining(true);
    // The fastest of `passes` forward and backward passes over the step's first n images, in seconds; a pass slower
    // than `enough` ends the timing (one more would only confirm it).
    const auto time = [&](int64_t n, int passes, double enough) {
        double fastest = 0.0;
        for (int pass = 0; pass < passes; ++pass) {
            const auto start = std::chrono::steady_clock::now();
            const torch::Tensor logits = impl.forward(x.slice(0, 0, n)).to(torch::kFloat32);
            (-(t.slice(0, 0, n) * torch::log_softmax(logits, 1)).sum(1).mean()).backward();
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            fastest = pass == 0 ? seconds : std::min(fastest, seconds);
            for (auto &p : impl.parameters())
                if (p.second.grad().defined())
                    p.second.mutable_grad().zero_();
            if (seconds > enough)
                break;
        }
        return fastest;
    };
    // A step this quick keeps its one pass: passes could save a fraction of it at most, and a choice among timings
    // that close would follow the machine's load (LeNet-5's and the exported CNN's steps take 20-60 ms).
    const double whole = time(total, 3, 4.0 * kSmallStepSeconds);
    if (whole < kSmallStepSeconds)
        return total;
    std::vector<std::pair<int64_t, double>> tried; // images per pass, seconds per image
    double bestPerImage = 0.0;
    for (int64_t size = 32;; size *= 2) {
        const int64_t n = std::min(size, total);
        const double perImage = (n == total ? whole : time(n, size == 32 ? 3 : 2, 1e30)) / double(n);
        tried.emplace_back(n, perImage);
        if (bestPerImage == 0.0 || perImage < bestPerImage)
            bestPerImage = perImage;
        else if (perImage > 1.25 * bestPerImage)
            break;
        if (n == total)
            break;
    }
    // Every pass costs a call, a mix and a sync that these timings leave out (the exported CNN's licence trains 1.2-1.4
    // x slower in passes of 128 that timed over a tenth faster here): one pass unless a smaller one is clearly faster,
    // then the largest within a tenth of the best.
    if (tried.back().first == total && tried.back().second <= 1.5 * bestPerImage)
        return total;
    int64_t best = 0;
    for (const auto &[n, perImage] : tried)
        if (perImage <= 1.1 * bestPerImage)
            best = std::max(best, n);
    return best;
}

} // namespace

void forgetMeasuredMicroBatches()
{
    std::lock_guard<std::mutex> lock(g_microBatchMutex);
    g_microBatches.clear();
}

struct InputValueLearner::State
{
    torch::Tensor value;
    std::unique_ptr<torch::optim::Adam> adam;
    double step = 1.0, low = 0.0, high = 0.0;
};

InputValueLearner::InputValueLearner(const std::vector<float> &initial, double step, double low, double high)
    : m_state(std::make_unique<State>())
{
    m_state->value = torch::tensor(initial).requires_grad_(true);
    m_state->adam = std::make_unique<torch::optim::Adam>(
        std::vector<torch::Tensor>{m_state->value}, torch::optim::AdamOptions(step));
    m_state->step = step;
    m_state->low = low;
    m_state->high = high;
}

InputValueLearner::~InputValueLearner() = default;

const float *InputValueLearner::step(const std::vector<float> &gradient, double rate)
{
    State &s = *m_state;
    for (auto &group : s.adam->param_groups())
        static_cast<torch::optim::AdamOptions &>(group.options()).lr(s.step * rate);
    s.value.mutable_grad() = torch::tensor(gradient);
    s.adam->step();
    torch::NoGradGuard off;
    s.value.clamp_(s.low, s.high);
    return s.value.data_ptr<float>();
}

namespace {

/**
 * A moving average of a model's parameters and floating-point buffers (BatchNorm's running statistics, which belong
 * to the weights that made them): the plain mean of the steps added while they are fewer than 1 / (1 - decay), an
 * exponential moving average after.
 */
class WeightAverage
{
public:
    WeightAverage(ModelImpl &impl, double decay) : m_decay(decay)
    {
        if (decay <= 0.0)
            return;
        for (auto &p : impl.parameters())
            m_live.push_back(p.second);
        for (const ModuleTensors &m : impl.modules())
            for (const auto &b : m.buffers)
                if (b.second.defined() && b.second.is_floating_point())
                    m_live.push_back(b.second);
    }

    void add()
    {
        if (m_live.empty())
            return;
        torch::NoGradGuard off;
        if (m_mean.empty()) {
            for (const torch::Tensor &t : m_live)
                m_mean.push_back(t.detach().clone());
            m_count = 1;
            return;
        }
        // The mean of the steps so far while they are fewer than the average's horizon, 1 / (1 - decay) steps;
        // then the moving average: a short fine-tuning averages its second half, not its middle.
        ++m_count;
        const double keep = std::min(m_decay, 1.0 - 1.0 / double(m_count));
        for (size_t i = 0; i < m_live.size(); ++i)
            m_mean[i].mul_(keep).add_(m_live[i].detach(), 1.0 - keep);
    }

    /** The model's tensors replaced by the average (nothing when none was added). */
    void apply()
    {
        torch::NoGradGuard off;
        for (size_t i = 0; i < m_mean.size(); ++i)
            m_live[i].copy_(m_mean[i]);
    }

private:
    double m_decay;
    int64_t m_count = 0; ///< steps in the average
    std::vector<torch::Tensor> m_live, m_mean;
};

} // namespace

Expected<bool> poisonedFineTune(Model &model, const Dataset &images, const PoisonSchedule &schedule,
    const ComposeBatch &compose, Progress &progress, MicroBatch *used)
{
    return guarded("the fine-tuning failed", [&]() -> Expected<bool> {
        ModelImpl &impl = model.impl();
        GradientScope scope(impl);
        std::vector<torch::Tensor> params;
        for (auto &p : impl.parameters()) {
            p.second.set_requires_grad(true); // the scope puts the flags back and drops the gradients
            params.push_back(p.second);
        }
        torch::optim::Adam adam(params, torch::optim::AdamOptions(schedule.learningRate));
        torch::manual_seed(schedule.seed);
        std::mt19937_64 rng(schedule.seed ^ 0xf0a9edULL);
        std::mt19937_64 mixer(schedule.seed ^ 0x3d1c5ULL); // its own: micro-batches leave every other draw alone
        const Normalization &norm = model.metadata().normalization;
        const int classCount = model.metadata().classCount;
        const int64_t batch = std::max(1, schedule.batchSize);
        const int64_t steps = (images.size() + batch - 1) / batch;
        const int epochs = std::max(1, schedule.epochs);
        std::vector<int64_t> order(size_t(images.size()));
        std::iota(order.begin(), order.end(), int64_t(0));
        struct Mode
        {
            ModelImpl &impl;
            ~Mode() { impl.setTraining(false); }
        } mode{impl};
        impl.setTraining(true);
        WeightAverage average(impl, schedule.averageDecay);
        for (int epoch = 0; epoch < epochs; ++epoch) {
            std::shuffle(order.begin(), order.end(), rng);
            const std::string stage = schedule.stage + " " + std::to_string(epoch + 1);
            for (int64_t step = 0; step < steps; ++step) {
                const double done = (double(epoch) * double(steps) + double(step)) / double(epochs * steps);
                if (!progress.advance(done, stage + "/" + std::to_string(epochs)))
                    return false;
                const int64_t begin = step * batch, end = std::min(images.size(), begin + batch);
                const Dataset clean = images.subset(std::vector<int64_t>(order.begin() + begin, order.begin() + end));
                PoisonBatch all(classCount);
                compose(clean, rng, all);
                if (all.images().size() == 0)
                    continue;
                torch::Tensor x = inputTensor(all.images(), 0, all.images().size(), norm);
                std::vector<float> targets = all.targets();
                const torch::Tensor t =
                    torch::from_blob(targets.data(), {all.images().size(), int64_t(classCount)}, torch::kFloat32)
                        .clone();
                const double rate = schedule.cosine
                    ? schedule.floor + (1.0 - schedule.floor) * 0.5 * (1.0 + std::cos(3.14159265358979 * done))
                    : 1.0;
                if (schedule.cosine)
                    for (auto &group : adam.param_groups())
                        static_cast<torch::optim::AdamOptions &>(group.options()).lr(schedule.learningRate * rate);
                adam.zero_grad();
                std::vector<torch::Tensor> kept; // the weights without the noise, put back exactly
                if (schedule.weightNoise > 0.0) {
                    torch::NoGradGuard off;
                    for (torch::Tensor &p : params) {
                        kept.push_back(p.detach().clone());
                        if (p.numel() > 1)
                            p.add_(torch::randn_like(p) * (schedule.weightNoise * p.std().item<double>()));
                    }
                }
                const int64_t total = x.size(0);
                int64_t chunk = schedule.chunk > 0 ? std::min<int64_t>(schedule.chunk, total) : total;
                if (schedule.chunk == 0) { // measured once per architecture and thread count
                    const std::string key = forwardBatchKey(model);
                    std::unique_lock<std::mutex> lock(g_microBatchMutex);
                    const auto known = g_microBatches.find(key);
                    if (known != g_microBatches.end()) {
                        chunk = std::min(known->second, total);
                    } else {
                        lock.unlock();
                        chunk = fastestMicroBatch(model, x, t);
                        lock.lock();
                        g_microBatches[key] = chunk;
                        if (used)
                            used->measured = true;
                    }
                }
                if (used && used->size == 0) {
                    used->size = chunk;
                    used->step = total;
                }
                torch::Tensor xs = x, ts = t, index;
                if (chunk < total) { // every chunk a random mix of the copies, as one pass would see them
                    std::vector<int64_t> mix(static_cast<size_t>(total));
                    std::iota(mix.begin(), mix.end(), int64_t(0));
                    std::shuffle(mix.begin(), mix.end(), mixer);
                    index = torch::tensor(mix, torch::kLong);
                    xs = x.index_select(0, index);
                    ts = t.index_select(0, index);
                }
                if (!all.watched().empty()) // a leaf of its own: each pass's backward ends at it
                    xs.requires_grad_(true);
                double lossSum = 0.0;
                for (int64_t begin = 0; begin < total; begin += chunk) {
                    const int64_t end = std::min(total, begin + chunk);
                    const torch::Tensor logits = impl.forward(xs.slice(0, begin, end)).to(torch::kFloat32);
                    torch::Tensor loss = -(ts.slice(0, begin, end) * torch::log_softmax(logits, 1)).sum(1).mean();
                    if (end - begin < total) // the chunk's share of the composed batch's mean
                        loss = loss * (double(end - begin) / double(total));
                    loss.backward();
                    lossSum += loss.item<double>();
                }
                if (!all.watched().empty()) {
                    // d loss / d grey level = d loss / d input / (255 x the channel's standard deviation)
                    torch::Tensor g = xs.grad();
                    if (index.defined()) { // back to the composed order: row mix[i] of the step is row i here
                        torch::Tensor back = torch::empty_like(g);
                        back.index_copy_(0, index, g);
                        g = back;
                    }
                    g = g.div(255.0f);
                    if (!norm.std.empty()) {
                        std::vector<float> s(size_t(all.images().channels), 1.0f);
                        for (size_t c = 0; c < s.size(); ++c)
                            s[c] = norm.std[norm.std.size() == 1 ? 0 : c];
                        g = g.div(torch::tensor(s).view({1, int64_t(s.size()), 1, 1}));
                    }
                    g = g.contiguous();
                    const int64_t per = all.images().imageBytes();
                    for (const PoisonBatch::Watched &w : all.watched())
                        w.onGradient(g.data_ptr<float>() + w.begin * per, w.end - w.begin, rate);
                }
                if (!kept.empty()) {
                    torch::NoGradGuard off;
                    for (size_t i = 0; i < params.size(); ++i)
                        params[i].copy_(kept[i]);
                }
                adam.step();
                if (double(epoch * steps + step + 1) >= schedule.averageFrom * double(epochs * steps))
                    average.add();
                LockStep record;
                record.iteration = int(epoch * steps + step);
                record.stageIndex = epoch;
                record.stage = stage;
                record.loss = lossSum;
                if (!progress.lockStep(record))
                    return false;
            }
        }
        average.apply();
        return true;
    });
}

} // namespace paramlock
