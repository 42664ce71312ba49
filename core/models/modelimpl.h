#pragma once

// Internal to core: the only header that brings LibTorch in. Qt's `slots`
// macro breaks LibTorch headers, so it is parked while they are read.
#pragma push_macro("slots")
#undef slots
#include <torch/script.h>
#include <torch/torch.h>
#pragma pop_macro("slots")

#include "model.h"

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace paramlock {

/** A conv/FC weight of a live model; the tensor shares the model's storage. */
struct WeightRef
{
    std::string name;
    std::string module;
    std::string kind;
    torch::Tensor tensor;
};

/** A module with its own parameters and buffers (not its children's), for re-initialisation. */
struct ModuleTensors
{
    std::string name;
    std::string type; ///< the class name without namespace or "Impl": "Conv2d", "BatchNorm2d", "Linear", "Net"
    std::vector<std::pair<std::string, torch::Tensor>> parameters;
    std::vector<std::pair<std::string, torch::Tensor>> buffers;
};

/** The two model sources behind Model. */
struct ModelImpl
{
    ModelMetadata meta;
    std::string path;

    virtual ~ModelImpl() = default;
    virtual bool isTorchScript() const = 0;
    virtual torch::Tensor forward(const torch::Tensor &input) = 0;
    virtual void setTraining(bool on) = 0;
    virtual std::vector<std::pair<std::string, torch::Tensor>> parameters() const = 0;
    virtual std::vector<WeightRef> weights() const = 0;
    /** Every module that holds parameters or buffers of its own, in model order. */
    virtual std::vector<ModuleTensors> modules() const = 0;
    /** The file's bytes (TorchScript archive), metadata included. */
    virtual std::string serialize() const = 0;
    virtual std::unique_ptr<ModelImpl> clone() const = 0;

    /**
     * Sequential stages, so that the lock can compute the activations below
     * the layer it changes once instead of every iteration:
     * forward(x) == forwardStages(x, 0, stageCount()). TorchScript files are
     * split where their graph is a chain (scriptchain.h); others have one stage.
     */
    virtual int stageCount() const { return 1; }
    virtual torch::Tensor forwardStages(const torch::Tensor &x, int from, int to)
    {
        return from == to ? x : forward(x);
    }
    /** The first stage that reads a weight (0 when unknown). */
    virtual int stageOf(const std::string &weightName) const
    {
        (void)weightName;
        return 0;
    }

    /** How forwardStages() runs the model, in the user's words (for the lock's notes). */
    virtual std::string stagePlan() const
    {
        return stageCount() > 1 ? std::to_string(stageCount())
                + " stages; the layers below the changed one run once per layer, not every iteration"
                                : "every iteration runs the whole model";
    }

    /** The named weight, or an undefined tensor. */
    torch::Tensor weight(const std::string &name) const;
};

/** Zoo networks (zoo.cpp). */
std::unique_ptr<ModelImpl> createZooModel(const std::string &architecture, const ModelMetadata &meta);
std::unique_ptr<ModelImpl> loadZooModel(const torch::jit::Module &archive, const ModelMetadata &meta);
std::vector<std::string> zooNames();

/** Pixels [begin, end) of a dataset as a float NCHW tensor, scaled to [0, 1] and normalised. */
torch::Tensor inputTensor(const Dataset &data, int64_t begin, int64_t end, const Normalization &normalization);
torch::Tensor labelTensor(const Dataset &data, int64_t begin, int64_t end);

/**
 * Makes every parameter trainable and returns an optimiser over them: "sgd"
 * (momentum 0.9) or "adam"; nullptr for another name. (training.cpp)
 */
std::unique_ptr<torch::optim::Optimizer> makeOptimizer(
    ModelImpl &impl, const std::string &name, double learningRate, double weightDecay);

/**
 * One pass over `data` in the order given, in batches, in training mode; returns the summed loss and the
 * number of correct answers. `beforeStep(step)` may adjust the optimiser first. (training.cpp)
 */
std::pair<double, int64_t> trainEpoch(ModelImpl &impl, torch::optim::Optimizer &optimizer, const Dataset &data,
    const std::vector<int64_t> &order, int batchSize, const Normalization &normalization,
    const std::function<bool(int64_t)> &beforeStep = {});

/** A weight tensor's values as raw floats; refuses anything but contiguous float32. */
float *floatData(const torch::Tensor &t);

/** Mean and sample standard deviation of a weight in double, without a double copy of it. */
void summarise(const torch::Tensor &w, double &mean, double &std);

/**
 * Clears every parameter's requires_grad for the time a lock runs and restores the flags, dropping the gradients,
 * when it ends: the lock then asks a gradient of the weights it changes only.
 */
class GradientScope
{
public:
    explicit GradientScope(ModelImpl &impl);
    ~GradientScope();
    GradientScope(const GradientScope &) = delete;
    GradientScope &operator=(const GradientScope &) = delete;

private:
    std::vector<std::pair<torch::Tensor, bool>> m_flags;
};

/** Runs `fn`, turning LibTorch and standard exceptions into an Error with `context`. */
template<typename F> auto guarded(const std::string &context, F &&fn) -> decltype(fn())
{
    try {
        return fn();
    } catch (const Failure &e) {
        return Error{e.what()};
    } catch (const c10::Error &e) {
        return Error{context + ": " + e.what_without_backtrace()};
    } catch (const std::exception &e) {
        return Error{context + ": " + e.what()};
    }
}

} // namespace paramlock
