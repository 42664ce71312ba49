#include "modelimpl.h"

#include "atomicfile.h"
#include "process.h"
#include "scriptchain.h"

#include <caffe2/serialize/inline_container.h>

#include <nlohmann/json.hpp>

#include <QFileInfo>

#include <openssl/evp.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <dlfcn.h>
#include <mutex>
#include <sstream>
#include <thread>

namespace paramlock {

using nlohmann::json;

// ---- tensors from datasets ------------------------------------------------

torch::Tensor inputTensor(const Dataset &data, int64_t begin, int64_t end, const Normalization &norm)
{
    const int64_t n = end - begin;
    auto bytes = torch::from_blob(
        const_cast<uint8_t *>(data.image(begin)), {n, data.channels, data.height, data.width}, torch::kUInt8);
    auto x = bytes.to(torch::kFloat32).div_(255.0f);
    if (!norm.mean.empty() || !norm.std.empty()) {
        auto perChannel = [&](const std::vector<float> &v, float fallback) {
            std::vector<float> full(size_t(data.channels), fallback);
            for (size_t c = 0; c < full.size(); ++c)
                full[c] = v.empty() ? fallback : v[v.size() == 1 ? 0 : c];
            return torch::tensor(full).view({1, data.channels, 1, 1});
        };
        x.sub_(perChannel(norm.mean, 0.0f)).div_(perChannel(norm.std, 1.0f));
    }
    return x;
}

torch::Tensor labelTensor(const Dataset &data, int64_t begin, int64_t end)
{
    return torch::from_blob(const_cast<int32_t *>(data.labels.data() + begin), {end - begin}, torch::kInt32)
        .to(torch::kLong);
}

float *floatData(const torch::Tensor &t)
{
    if (!t.is_contiguous() || t.scalar_type() != torch::kFloat32)
        throw Failure("weights must be contiguous float32 tensors");
    return t.data_ptr<float>();
}

void summarise(const torch::Tensor &w, double &mean, double &std)
{
    const float *v = floatData(w);
    const int64_t n = w.numel();
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i)
        sum += double(v[i]);
    mean = n > 0 ? sum / double(n) : 0.0;
    double squares = 0.0;
    for (int64_t i = 0; i < n; ++i)
        squares += (double(v[i]) - mean) * (double(v[i]) - mean);
    std = n > 1 ? std::sqrt(squares / double(n - 1)) : 0.0;
}

GradientScope::GradientScope(ModelImpl &impl)
{
    for (auto &p : impl.parameters()) {
        m_flags.emplace_back(p.second, p.second.requires_grad());
        p.second.set_requires_grad(false);
    }
}

GradientScope::~GradientScope()
{
    for (auto &f : m_flags) {
        f.first.set_requires_grad(f.second);
        f.first.mutable_grad() = torch::Tensor();
    }
}

// ---- TorchScript models ---------------------------------------------------

namespace {

bool isConvType(const std::string &typeName)
{
    return typeName == "Conv1d" || typeName == "Conv2d" || typeName == "Conv3d";
}

/** The user's own extra files ("extra/NAME" records), kept so that saving loses nothing. */
torch::jit::ExtraFilesMap userExtraFiles(const std::string &path)
{
    torch::jit::ExtraFilesMap files;
    caffe2::serialize::PyTorchStreamReader reader(path);
    for (const std::string &record : reader.getAllRecords()) {
        // The reader names records without the archive's folder: "extra/NAME".
        if (record.rfind("extra/", 0) != 0)
            continue;
        const std::string name = record.substr(6);
        if (name != "paramlock.json")
            files[name] = "";
    }
    return files;
}

class ScriptModel : public ModelImpl
{
public:
    ScriptModel(torch::jit::Module module, torch::jit::ExtraFilesMap extraFiles)
        : m_module(std::move(module)), m_extraFiles(std::move(extraFiles)), m_savedTraining(m_module.is_training())
    { }

    bool isTorchScript() const override { return true; }

    torch::Tensor forward(const torch::Tensor &input) override { return scores(m_module.forward({input})); }

    int stageCount() const override { return chain().stageCount(); }
    torch::Tensor forwardStages(const torch::Tensor &x, int from, int to) override
    {
        const ScriptChain &stages = chain();
        if (from == to)
            return x;
        if (stages.stageCount() == 1)
            return forward(x);
        auto out = stages.run(m_module, x, from, to);
        return to == stages.stageCount() ? scores(out) : out.toTensor();
    }
    int stageOf(const std::string &weightName) const override { return chain().stageOf(weightName); }
    std::string stagePlan() const override
    {
        const ScriptChain &stages = chain();
        if (stages.stageCount() > 1)
            return "the TorchScript forward splits into " + std::to_string(stages.stageCount())
                + " stages; the layers below the changed one run once per layer, not every iteration";
        return "every iteration runs the whole model: " + stages.reason();
    }

    void setTraining(bool on) override { m_module.train(on); }

    std::vector<std::pair<std::string, torch::Tensor>> parameters() const override
    {
        std::vector<std::pair<std::string, torch::Tensor>> out;
        for (const auto &p : m_module.named_parameters(true))
            out.emplace_back(p.name, p.value);
        return out;
    }

    std::vector<WeightRef> weights() const override
    {
        std::vector<WeightRef> out;
        for (const auto &item : m_module.named_modules()) {
            const auto &type = item.value.type();
            if (!type->name())
                continue;
            const std::string base = type->name()->name();
            const char *kind = isConvType(base) ? "conv" : (base == "Linear" ? "linear" : nullptr);
            if (!kind || !item.value.hasattr("weight"))
                continue;
            const auto w = item.value.attr("weight");
            if (!w.isTensor())
                continue;
            const std::string prefix = item.name.empty() ? "" : item.name + ".";
            out.push_back({prefix + "weight", item.name, kind, w.toTensor()});
        }
        if (!out.empty())
            return out;
        // Models built from functional calls: take weights by their rank.
        for (const auto &p : m_module.named_parameters(true)) {
            const auto &name = p.name;
            const bool isWeight =
                name == "weight" || (name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0);
            if (!isWeight)
                continue;
            const auto dims = p.value.dim();
            if (dims >= 3 && dims <= 5)
                out.push_back({name, name.substr(0, name.size() > 7 ? name.size() - 7 : 0), "conv", p.value});
            else if (dims == 2)
                out.push_back({name, name.substr(0, name.size() > 7 ? name.size() - 7 : 0), "linear", p.value});
        }
        return out;
    }

    std::vector<ModuleTensors> modules() const override
    {
        std::vector<ModuleTensors> out;
        for (const auto &item : m_module.named_modules()) {
            ModuleTensors m;
            m.name = item.name;
            const auto &type = item.value.type();
            m.type = type->name() ? type->name()->name() : std::string();
            for (const auto &p : item.value.named_parameters(false))
                m.parameters.emplace_back(p.name, p.value);
            for (const auto &b : item.value.named_buffers(false))
                m.buffers.emplace_back(b.name, b.value);
            if (!m.parameters.empty() || !m.buffers.empty())
                out.push_back(std::move(m));
        }
        return out;
    }

    std::string serialize() const override
    {
        std::ostringstream stream;
        torch::jit::ExtraFilesMap extra = m_extraFiles;
        extra["paramlock.json"] = meta.toJson();
        // Written in the train/eval state the user exported, not the eval state ParamLock runs in.
        const bool training = m_module.is_training();
        m_module.train(m_savedTraining);
        m_module.save(stream, extra);
        m_module.train(training);
        return stream.str();
    }

    std::unique_ptr<ModelImpl> clone() const override
    {
        // Module::clone() records the copies in autograd (CloneBackward), leaving non-leaf
        // parameters that never receive a gradient; copy without grad and restore the flags.
        torch::jit::Module module;
        {
            torch::NoGradGuard noGrad;
            module = m_module.clone();
        }
        const auto source = m_module.named_parameters(true);
        const auto target = module.named_parameters(true);
        for (auto s = source.begin(), t = target.begin(); s != source.end() && t != target.end(); ++s, ++t)
            (*t).value.set_requires_grad((*s).value.requires_grad());
        auto copy = std::make_unique<ScriptModel>(module, m_extraFiles);
        copy->m_savedTraining = m_savedTraining;
        copy->meta = meta;
        copy->path = path;
        return copy;
    }

private:
    static torch::Tensor scores(const torch::jit::IValue &out)
    {
        torch::Tensor t = classScores(out);
        if (!t.defined())
            throw Failure("the model's forward() returns " + out.tagKind() + ", not a tensor of class scores");
        return t;
    }

    /**
     * The forward split into stages, made on first use and checked against forward() on two images of the input
     * shape, in eval mode; one stage while the input shape is unknown.
     */
    const ScriptChain &chain() const
    {
        if (m_chain)
            return *m_chain;
        if (!meta.hasInputShape()) {
            static const ScriptChain unknown("its input shape is unknown");
            return unknown;
        }
        const auto probe = torch::arange(2 * meta.channels * meta.height * meta.width, torch::kFloat32)
                               .mul_(0.37)
                               .sin_()
                               .reshape({2, meta.channels, meta.height, meta.width});
        const bool training = m_module.is_training();
        m_module.train(false);
        m_chain = std::make_unique<ScriptChain>(m_module, probe);
        m_module.train(training);
        return *m_chain;
    }

    mutable torch::jit::Module m_module;
    torch::jit::ExtraFilesMap m_extraFiles;
    bool m_savedTraining = false;
    mutable std::unique_ptr<ScriptChain> m_chain;
};

std::once_flag g_threadsOnce;
std::atomic_bool g_threadsChosen{false};

/**
 * LibTorch's own OpenMP threads parallelise the work; OpenBLAS's second pool only competes with them (see
 * setBlasThreads). A user's OPENBLAS_NUM_THREADS is respected.
 */
void keepBlasOnCallingThread()
{
    if (!std::getenv("OPENBLAS_NUM_THREADS"))
        setBlasThreads(1);
}

void initialiseRuntime()
{
    std::call_once(g_threadsOnce, [] {
        if (g_threadsChosen.load())
            return;
        if (torch::get_num_threads() < int(std::thread::hardware_concurrency()))
            configureThreads(0);
        else
            keepBlasOnCallingThread();
    });
}

} // namespace

void configureThreads(int threads)
{
    const int cores = std::max(1, int(std::thread::hardware_concurrency()));
    const int n = threads > 0 ? threads : freeCores(cores, busyCoresOfOthers());
    torch::set_num_threads(n);
    keepBlasOnCallingThread();
    g_threadsChosen.store(true);
}

bool setBlasThreads(int threads)
{
    using SetThreads = void (*)(int);
    const auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
    if (!set)
        return false;
    set(std::max(1, threads));
    return true;
}

int blasThreads()
{
    using GetThreads = int (*)();
    const auto get = reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
    return get ? get() : 0;
}

int threadCount()
{
    return torch::get_num_threads();
}

torch::Tensor ModelImpl::weight(const std::string &name) const
{
    for (const auto &w : weights())
        if (w.name == name)
            return w.tensor;
    return {};
}

// ---- Model ----------------------------------------------------------------

Model::Model() = default;
Model::~Model() = default;
Model::Model(const Model &) = default;
Model &Model::operator=(const Model &) = default;
Model::Model(std::shared_ptr<ModelImpl> impl) : d(std::move(impl))
{ }

Expected<Model> Model::load(const std::string &path)
{
    initialiseRuntime();
    const QFileInfo info(QString::fromStdString(path));
    if (!info.exists())
        return Error{"model file not found: " + path};
    if (info.isDir())
        return Error{path + " is a folder, not a model file"};
    return guarded("cannot load model " + path, [&]() -> Expected<Model> {
        torch::jit::ExtraFilesMap extra;
        torch::jit::Module module;
        try {
            extra = userExtraFiles(path);
            extra["paramlock.json"] = "";
            module = torch::jit::load(path, torch::kCPU, extra);
        } catch (const c10::Error &e) {
            std::string why = e.what_without_backtrace();
            if (why.find("constants.pkl") != std::string::npos)
                return Error{path
                    + " is a PyTorch checkpoint saved with torch.save (a pickled state_dict or module), not "
                      "TorchScript; export the model with torch.jit.script(model).save(path)"};
            if (why.find("PytorchStreamReader") != std::string::npos || why.find("zip") != std::string::npos)
                return Error{path
                    + " is not a TorchScript model (not a valid TorchScript/zip archive; export it with "
                      "torch.jit.script or torch.jit.trace and save it)"};
            return Error{"cannot load " + path + " as TorchScript: " + why.substr(0, why.find('\n'))};
        }
        ModelMetadata meta;
        meta.architecture = "torchscript";
        if (!extra["paramlock.json"].empty()) {
            auto parsed = ModelMetadata::fromJson(extra["paramlock.json"]);
            if (!parsed)
                return Error{path + ": " + parsed.error()};
            meta = *parsed;
        }
        std::unique_ptr<ModelImpl> impl;
        if (meta.architecture != "torchscript") {
            impl = loadZooModel(module, meta);
        } else {
            if (!module.find_method("forward"))
                return Error{path + " has no forward() method; it is not a runnable TorchScript model"};
            extra.erase("paramlock.json");
            impl = std::make_unique<ScriptModel>(module, extra);
            impl->meta = meta;
        }
        impl->path = path;
        impl->setTraining(false);
        for (const auto &p : impl->parameters())
            if (p.second.scalar_type() != torch::kFloat32)
                return Error{path + ": parameter " + p.first + " is "
                    + std::string(c10::toString(p.second.scalar_type())) + "; ParamLock works on float32 models"};
        return Model(std::shared_ptr<ModelImpl>(std::move(impl)));
    });
}

Expected<Model> Model::create(const std::string &architecture, const ModelMetadata &metadata, uint64_t seed)
{
    initialiseRuntime();
    return guarded("cannot create " + architecture, [&]() -> Expected<Model> {
        torch::manual_seed(seed);
        auto impl = createZooModel(architecture, metadata);
        impl->setTraining(false);
        return Model(std::shared_ptr<ModelImpl>(std::move(impl)));
    });
}

Expected<void> Model::save(const std::string &path, const std::vector<std::string> &protectedPaths) const
{
    auto bytes = guarded("cannot serialise the model", [&]() -> Expected<std::string> { return d->serialize(); });
    if (!bytes)
        return Error{bytes.error()};
    return writeFileAtomically(path, *bytes, protectedPaths);
}

bool Model::isTorchScript() const
{
    return d->isTorchScript();
}

const std::string &Model::sourcePath() const
{
    return d->path;
}

const ModelMetadata &Model::metadata() const
{
    return d->meta;
}

void Model::setMetadata(const ModelMetadata &metadata)
{
    const std::string arch = d->meta.architecture;
    d->meta = metadata;
    d->meta.architecture = arch;
}

std::vector<LayerInfo> Model::layers() const
{
    torch::NoGradGuard noGrad;
    std::vector<LayerInfo> out;
    for (const auto &w : d->weights()) {
        LayerInfo info;
        info.name = w.name;
        info.module = w.module;
        info.kind = w.kind;
        info.shape = w.tensor.sizes().vec();
        info.count = w.tensor.numel();
        if (info.count > 0) {
            const auto t = w.tensor.detach().to(torch::kDouble);
            info.min = w.tensor.min().item<float>();
            info.max = w.tensor.max().item<float>();
            info.mean = t.mean().item<double>();
            info.std = info.count > 1 ? t.std().item<double>() : 0.0;
        }
        out.push_back(std::move(info));
    }
    return out;
}

std::vector<std::string> Model::layerNames() const
{
    std::vector<std::string> out;
    for (const auto &w : d->weights())
        out.push_back(w.name);
    return out;
}

std::vector<std::string> Model::parameterNames() const
{
    std::vector<std::string> out;
    for (const auto &p : d->parameters())
        out.push_back(p.first);
    return out;
}

int64_t Model::parameterCount() const
{
    int64_t n = 0;
    for (const auto &p : d->parameters())
        n += p.second.numel();
    return n;
}

std::string Model::fingerprint() const
{
    // OpenSSL's SHA-256 uses the CPU's SHA extensions where there are any: about 4x Qt's on this project's
    // machines, and the lock and the unlock each hash the whole weight set twice.
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX *)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1)
        throw Failure("cannot start a SHA-256 hash (OpenSSL)");
    for (const auto &w : d->weights()) {
        const auto t = w.tensor.detach().contiguous();
        std::string header = w.name + "|";
        for (auto s : t.sizes())
            header += std::to_string(s) + ",";
        header += "|";
        EVP_DigestUpdate(context.get(), header.data(), header.size());
        EVP_DigestUpdate(context.get(), t.data_ptr(), t.nbytes());
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(context.get(), digest, &length);
    static const char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 15];
    }
    return out;
}

namespace {
torch::Tensor anyParameter(const ModelImpl &impl, const std::string &name)
{
    auto w = impl.weight(name);
    if (w.defined())
        return w;
    for (const auto &p : impl.parameters())
        if (p.first == name)
            return p.second;
    return {};
}
} // namespace

Expected<std::vector<float>> Model::weights(const std::string &layer) const
{
    const auto w = anyParameter(*d, layer);
    if (!w.defined())
        return Error{"the model has no parameter named " + layer};
    const auto t = w.detach().contiguous();
    return std::vector<float>(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
}

Expected<void> Model::setWeights(const std::string &layer, const std::vector<float> &values)
{
    auto w = anyParameter(*d, layer);
    if (!w.defined())
        return Error{"the model has no parameter named " + layer};
    if (int64_t(values.size()) != w.numel())
        return Error{layer + " has " + std::to_string(w.numel()) + " weights, got " + std::to_string(values.size())};
    torch::NoGradGuard noGrad;
    w.copy_(torch::tensor(values).view(w.sizes()));
    return {};
}

Model Model::clone() const
{
    return Model(std::shared_ptr<ModelImpl>(d->clone()));
}

} // namespace paramlock
