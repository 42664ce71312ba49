#pragma once

#include "dataset.h"
#include "expected.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace paramlock {

/** A convolution or fully-connected weight: the parameters AdvParams may encrypt. */
struct LayerInfo
{
    std::string name; ///< weight parameter name, e.g. "features.0.weight"
    std::string module; ///< owning module path, e.g. "features.0"
    std::string kind; ///< "conv" or "linear"
    std::vector<int64_t> shape;
    int64_t count = 0;
    float min = 0.0f;
    float max = 0.0f;
    double mean = 0.0;
    double std = 0.0;
};

/** What ParamLock needs to know to feed a model: travels inside the model file. */
struct ModelMetadata
{
    std::string architecture; ///< a zoo name, or "torchscript"
    std::string dataset; ///< the dataset it was trained on, if known
    int channels = 0;
    int height = 0;
    int width = 0;
    int classCount = 0;
    Normalization normalization;
    std::vector<std::string> classNames;
    std::string trainingRecord; ///< how it was trained (command, seed, epochs, accuracy), JSON text

    bool hasInputShape() const { return channels > 0 && height > 0 && width > 0; }
    std::string toJson() const;
    static Expected<ModelMetadata> fromJson(const std::string &text);
};

/** A module that holds parameters or buffers of its own. */
struct ModuleInfo
{
    std::string name; ///< its path, e.g. "features.1" ("" for the model itself)
    std::string type; ///< "Conv2d", "BatchNorm2d", "Linear", or the class name of a custom module
    std::vector<std::string> parameters; ///< full names, e.g. "features.1.weight"
    std::vector<std::string> buffers; ///< full names, e.g. "features.1.running_mean"
};

struct ModelImpl;

/**
 * A classifier from either source: a TorchScript file exported from PyTorch
 * or a built-in zoo network. Copies share the weights; clone() makes an
 * independent copy.
 */
class Model
{
public:
    Model();
    ~Model();
    Model(const Model &);
    Model &operator=(const Model &);

    /** Loads a TorchScript file or a ParamLock zoo checkpoint. */
    static Expected<Model> load(const std::string &path);
    /** Creates a freshly initialised zoo network ("lenet5", "densenet-fmnist", "resnet56", "alexnet-gtsrb", "linear").
     */
    static Expected<Model> create(const std::string &architecture, const ModelMetadata &metadata, uint64_t seed);

    /** Writes atomically, as TorchScript for TorchScript models; refuses to overwrite `protectedPaths`. */
    Expected<void> save(const std::string &path, const std::vector<std::string> &protectedPaths = {}) const;

    bool isValid() const { return d != nullptr; }
    bool isTorchScript() const;
    const std::string &sourcePath() const;
    const ModelMetadata &metadata() const;
    void setMetadata(const ModelMetadata &metadata);

    /** Conv and fully-connected weights in model order, with statistics. */
    std::vector<LayerInfo> layers() const;
    std::vector<std::string> layerNames() const;
    /** All parameters (weights, biases, BatchNorm affine), buffers excluded. */
    int64_t parameterCount() const;
    /** Their names, in model order. */
    std::vector<std::string> parameterNames() const;
    /** SHA-256 (hex) of the conv/FC weights: names, shapes and raw bytes. */
    std::string fingerprint() const;

    /** A parameter's values (a conv/FC weight or any other named parameter), flattened row-major. */
    Expected<std::vector<float>> weights(const std::string &layer) const;
    /** Every module with parameters or buffers of its own, in model order. */
    std::vector<ModuleInfo> modules() const;
    /** A parameter's or a buffer's values by full name, converted to float (e.g. "bn1.running_var"). */
    Expected<std::vector<float>> values(const std::string &name) const;
    /** Replaces a parameter's values (same count). */
    Expected<void> setWeights(const std::string &layer, const std::vector<float> &values);

    Model clone() const;
    /**
     * An independent copy with fresh weights, as PyTorch initialises a new module of each type: convolution and
     * linear weights kaiming-uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), their biases
     * U(-1/sqrt(fan_in), 1/sqrt(fan_in)); BatchNorm/InstanceNorm/GroupNorm/LayerNorm weight 1, bias 0, running mean
     * 0, running variance 1, batch count 0; Embedding N(0, 1). Parameters of other module types follow the same
     * rules by rank (2 and more: like a weight; 1: a bias, or 1 for a norm-like "weight"). Reproducible by seed; the
     * training/eval state is copied.
     */
    Expected<Model> reinitialised(uint64_t seed) const;

    ModelImpl &impl() const { return *d; }

private:
    explicit Model(std::shared_ptr<ModelImpl> impl);
    std::shared_ptr<ModelImpl> d;
};

/**
 * Sets LibTorch's intra-op threads. 0: the cores other processes leave free, measured over 0.1 s (freeCores()), at
 * least one. Debian's LibTorch starts with one.
 */
void configureThreads(int threads = 0);
/**
 * Threads of OpenBLAS's own pool, where LibTorch multiplies matrices with it (Debian's does). Its pthread build
 * keeps one thread per core beside LibTorch's OpenMP pool, and on a machine with few cores the two pools' waiting
 * threads spin on the cores the other needs: measured on 2 cores, one LeNet-5 pass of 300 images took 18-179 ms
 * with both pools and 18-22 ms with OpenBLAS on the calling thread. configureThreads() sets 1 unless the
 * environment sets OPENBLAS_NUM_THREADS. Returns false where no OpenBLAS is loaded.
 */
bool setBlasThreads(int threads);
/** OpenBLAS's thread count; 0 where no OpenBLAS is loaded. */
int blasThreads();
int threadCount();

} // namespace paramlock
