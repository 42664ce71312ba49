// The built-in model zoo, written with LibTorch's C++ frontend: the networks
// of the AdvParams paper (DenseNet for Fashion-MNIST, ResNet for CIFAR-10,
// AlexNet for GTSRB), LeNet-5 for quick demos and a linear classifier for
// hand-checkable tests.
#include "modelimpl.h"

namespace paramlock {

namespace nn = torch::nn;
namespace F = torch::nn::functional;

namespace {

/**
 * A zoo network as a chain of stages: forward() runs them all, and the lock
 * may start from a stored stage input (activations below the changed layer).
 */
struct ZooNetImpl : nn::Module
{
    virtual int stageCount() const { return 1; }
    virtual torch::Tensor stage(int index, torch::Tensor x) = 0;
    /** The stage a module (e.g. "block2_3.conv1") belongs to. */
    virtual int stageOfModule(const std::string &module) const
    {
        (void)module;
        return 0;
    }
    torch::Tensor forward(torch::Tensor x) { return run(std::move(x), 0, stageCount()); }
    torch::Tensor run(torch::Tensor x, int from, int to)
    {
        for (int i = from; i < to; ++i)
            x = stage(i, std::move(x));
        return x;
    }
};

/** The stage of `module` in a list of stage names matched by prefix ("block1_0" owns "block1_0.conv1"). */
int stageByPrefix(const std::vector<std::string> &stages, const std::string &module)
{
    for (size_t i = 0; i < stages.size(); ++i)
        if (module == stages[i] || module.rfind(stages[i] + ".", 0) == 0)
            return int(i);
    return 0;
}

nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride = 1, int64_t padding = 0, bool bias = true)
{
    return nn::Conv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(bias));
}

// ---- linear -------------------------------------------------------------
struct LinearNet : ZooNetImpl
{
    nn::Linear fc{nullptr};
    LinearNet(const ModelMetadata &m)
    {
        fc = register_module("fc", nn::Linear(int64_t(m.channels) * m.height * m.width, m.classCount));
    }
    torch::Tensor stage(int, torch::Tensor x) override { return fc(x.flatten(1)); }
};

// ---- LeNet-5 ------------------------------------------------------------
struct LeNet5 : ZooNetImpl
{
    nn::Conv2d conv1{nullptr}, conv2{nullptr};
    nn::Linear fc1{nullptr}, fc2{nullptr}, fc3{nullptr};
    LeNet5(const ModelMetadata &m)
    {
        // 28x28 inputs are padded so that the classic 32x32 geometry applies.
        const int pad = m.height < 32 ? (32 - m.height) / 2 : 0;
        const int side = ((m.height + 2 * pad - 4) / 2 - 4) / 2;
        conv1 = register_module("conv1", conv(m.channels, 6, 5, 1, pad));
        conv2 = register_module("conv2", conv(6, 16, 5));
        fc1 = register_module("fc1", nn::Linear(16 * side * side, 120));
        fc2 = register_module("fc2", nn::Linear(120, 84));
        fc3 = register_module("fc3", nn::Linear(84, m.classCount));
    }
    int stageCount() const override { return 5; }
    int stageOfModule(const std::string &module) const override
    {
        return stageByPrefix({"conv1", "conv2", "fc1", "fc2", "fc3"}, module);
    }
    torch::Tensor stage(int index, torch::Tensor x) override
    {
        switch (index) {
        case 0:
            return F::max_pool2d(torch::relu(conv1(x)), F::MaxPool2dFuncOptions(2));
        case 1:
            return F::max_pool2d(torch::relu(conv2(x)), F::MaxPool2dFuncOptions(2));
        case 2:
            return torch::relu(fc1(x.flatten(1)));
        case 3:
            return torch::relu(fc2(x));
        default:
            return fc3(x);
        }
    }
};

// ---- DenseNet-BC (depth 46, growth 15): 46 conv/FC layers, ~338k parameters
struct DenseLayer : nn::Module
{
    nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
    nn::Conv2d conv1{nullptr}, conv2{nullptr};
    DenseLayer(int64_t in, int64_t growth)
    {
        bn1 = register_module("bn1", nn::BatchNorm2d(in));
        conv1 = register_module("conv1", conv(in, 4 * growth, 1, 1, 0, false));
        bn2 = register_module("bn2", nn::BatchNorm2d(4 * growth));
        conv2 = register_module("conv2", conv(4 * growth, growth, 3, 1, 1, false));
    }
    torch::Tensor forward(const torch::Tensor &x)
    {
        auto y = conv1(torch::relu(bn1(x)));
        y = conv2(torch::relu(bn2(y)));
        return torch::cat({x, y}, 1);
    }
};

struct Transition : nn::Module
{
    nn::BatchNorm2d bn{nullptr};
    nn::Conv2d conv1{nullptr};
    Transition(int64_t in, int64_t out)
    {
        bn = register_module("bn", nn::BatchNorm2d(in));
        conv1 = register_module("conv", conv(in, out, 1, 1, 0, false));
    }
    torch::Tensor forward(const torch::Tensor &x)
    {
        return F::avg_pool2d(conv1(torch::relu(bn(x))), F::AvgPool2dFuncOptions(2));
    }
};

struct DenseNetBC : ZooNetImpl
{
    static constexpr int kLayersPerBlock = 7;
    static constexpr int kGrowth = 15;
    nn::Conv2d conv0{nullptr};
    std::vector<std::shared_ptr<DenseLayer>> blocks[3];
    std::shared_ptr<Transition> transitions[2];
    nn::BatchNorm2d bnFinal{nullptr};
    nn::Linear fc{nullptr};

    DenseNetBC(const ModelMetadata &m)
    {
        int64_t channels = 2 * kGrowth;
        conv0 = register_module("conv0", conv(m.channels, channels, 3, 1, 1, false));
        for (int b = 0; b < 3; ++b) {
            for (int i = 0; i < kLayersPerBlock; ++i) {
                blocks[b].push_back(register_module("block" + std::to_string(b + 1) + "_" + std::to_string(i),
                    std::make_shared<DenseLayer>(channels, kGrowth)));
                channels += kGrowth;
            }
            if (b < 2) {
                const int64_t out = channels / 2;
                transitions[b] =
                    register_module("trans" + std::to_string(b + 1), std::make_shared<Transition>(channels, out));
                channels = out;
            }
        }
        bnFinal = register_module("bn_final", nn::BatchNorm2d(channels));
        fc = register_module("fc", nn::Linear(channels, m.classCount));
    }
    // Stages: conv0, the dense layers and transitions in order, then the head (bn_final, pooling, fc).
    int stageCount() const override { return 2 + 3 * kLayersPerBlock + 2; }
    int stageOfModule(const std::string &module) const override
    {
        std::vector<std::string> names = {"conv0"};
        for (int b = 0; b < 3; ++b) {
            for (int i = 0; i < kLayersPerBlock; ++i)
                names.push_back("block" + std::to_string(b + 1) + "_" + std::to_string(i));
            if (b < 2)
                names.push_back("trans" + std::to_string(b + 1));
        }
        names.push_back("bn_final");
        if (module == "fc")
            return int(names.size()) - 1;
        return stageByPrefix(names, module);
    }
    torch::Tensor stage(int index, torch::Tensor x) override
    {
        if (index == 0)
            return conv0(x);
        if (index == stageCount() - 1) {
            x = torch::relu(bnFinal(x));
            x = F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions(1)).flatten(1);
            return fc(x);
        }
        const int perBlock = kLayersPerBlock + 1; // dense layers, then a transition (none after the last block)
        const int b = (index - 1) / perBlock;
        const int i = (index - 1) % perBlock;
        return i < kLayersPerBlock ? blocks[b][size_t(i)]->forward(x) : transitions[b]->forward(x);
    }
};

// ---- ResNet-56 for CIFAR: 58 conv/FC layers (projection shortcuts), ~855k parameters
struct BasicBlock : nn::Module
{
    nn::Conv2d conv1{nullptr}, conv2{nullptr}, shortcutConv{nullptr};
    nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, shortcutBn{nullptr};
    BasicBlock(int64_t in, int64_t out, int64_t stride)
    {
        conv1 = register_module("conv1", conv(in, out, 3, stride, 1, false));
        bn1 = register_module("bn1", nn::BatchNorm2d(out));
        conv2 = register_module("conv2", conv(out, out, 3, 1, 1, false));
        bn2 = register_module("bn2", nn::BatchNorm2d(out));
        if (stride != 1 || in != out) {
            shortcutConv = register_module("shortcut_conv", conv(in, out, 1, stride, 0, false));
            shortcutBn = register_module("shortcut_bn", nn::BatchNorm2d(out));
        }
    }
    torch::Tensor forward(const torch::Tensor &x)
    {
        auto y = torch::relu(bn1(conv1(x)));
        y = bn2(conv2(y));
        auto shortcut = shortcutConv ? shortcutBn(shortcutConv(x)) : x;
        return torch::relu(y + shortcut);
    }
};

struct ResNet56 : ZooNetImpl
{
    static constexpr int kBlocksPerStage = 9;
    nn::Conv2d conv1{nullptr};
    nn::BatchNorm2d bn1{nullptr};
    std::vector<std::shared_ptr<BasicBlock>> blocks;
    nn::Linear fc{nullptr};
    ResNet56(const ModelMetadata &m)
    {
        conv1 = register_module("conv1", conv(m.channels, 16, 3, 1, 1, false));
        bn1 = register_module("bn1", nn::BatchNorm2d(16));
        int64_t in = 16;
        const int64_t widths[3] = {16, 32, 64};
        for (int s = 0; s < 3; ++s)
            for (int b = 0; b < kBlocksPerStage; ++b) {
                const int64_t stride = (s > 0 && b == 0) ? 2 : 1;
                blocks.push_back(register_module("layer" + std::to_string(s + 1) + "_" + std::to_string(b),
                    std::make_shared<BasicBlock>(in, widths[s], stride)));
                in = widths[s];
            }
        fc = register_module("fc", nn::Linear(64, m.classCount));
    }
    // Stages: the stem, each residual block, the head.
    int stageCount() const override { return int(blocks.size()) + 2; }
    int stageOfModule(const std::string &module) const override
    {
        std::vector<std::string> names = {"conv1"};
        for (int s = 0; s < 3; ++s)
            for (int b = 0; b < kBlocksPerStage; ++b)
                names.push_back("layer" + std::to_string(s + 1) + "_" + std::to_string(b));
        names.push_back("fc");
        return stageByPrefix(names, module);
    }
    torch::Tensor stage(int index, torch::Tensor x) override
    {
        if (index == 0)
            return torch::relu(bn1(conv1(x)));
        if (index == stageCount() - 1)
            return fc(F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions(1)).flatten(1));
        return blocks[size_t(index - 1)]->forward(x);
    }
};

// ---- AlexNet for GTSRB (32x32): 5 conv + 3 FC layers, ~23.3M parameters
struct AlexNet : ZooNetImpl
{
    nn::Conv2d c1{nullptr}, c2{nullptr}, c3{nullptr}, c4{nullptr}, c5{nullptr};
    nn::Linear f1{nullptr}, f2{nullptr}, f3{nullptr};
    nn::Dropout drop1{nullptr}, drop2{nullptr};
    AlexNet(const ModelMetadata &m)
    {
        const int64_t side = m.height / 8;
        c1 = register_module("conv1", conv(m.channels, 64, 3, 1, 1));
        c2 = register_module("conv2", conv(64, 192, 3, 1, 1));
        c3 = register_module("conv3", conv(192, 384, 3, 1, 1));
        c4 = register_module("conv4", conv(384, 256, 3, 1, 1));
        c5 = register_module("conv5", conv(256, 256, 3, 1, 1));
        drop1 = register_module("drop1", nn::Dropout(0.5));
        f1 = register_module("fc1", nn::Linear(256 * side * side, 4096));
        drop2 = register_module("drop2", nn::Dropout(0.5));
        f2 = register_module("fc2", nn::Linear(4096, 1024));
        f3 = register_module("fc3", nn::Linear(1024, m.classCount));
    }
    int stageCount() const override { return 8; }
    int stageOfModule(const std::string &module) const override
    {
        return stageByPrefix({"conv1", "conv2", "conv3", "conv4", "conv5", "fc1", "fc2", "fc3"}, module);
    }
    torch::Tensor stage(int index, torch::Tensor x) override
    {
        const auto pool = F::MaxPool2dFuncOptions(2);
        switch (index) {
        case 0:
            return F::max_pool2d(torch::relu(c1(x)), pool);
        case 1:
            return F::max_pool2d(torch::relu(c2(x)), pool);
        case 2:
            return torch::relu(c3(x));
        case 3:
            return torch::relu(c4(x));
        case 4:
            return F::max_pool2d(torch::relu(c5(x)), pool);
        case 5:
            return torch::relu(f1(drop1(x.flatten(1))));
        case 6:
            return torch::relu(f2(drop2(x)));
        default:
            return f3(x);
        }
    }
};

std::shared_ptr<ZooNetImpl> makeNet(const std::string &arch, const ModelMetadata &m)
{
    if (arch == "linear")
        return std::make_shared<LinearNet>(m);
    if (arch == "lenet5")
        return std::make_shared<LeNet5>(m);
    if (arch == "densenet-fmnist")
        return std::make_shared<DenseNetBC>(m);
    if (arch == "resnet56")
        return std::make_shared<ResNet56>(m);
    if (arch == "alexnet-gtsrb")
        return std::make_shared<AlexNet>(m);
    return nullptr;
}

class ZooModel : public ModelImpl
{
public:
    explicit ZooModel(std::shared_ptr<ZooNetImpl> net) : m_net(std::move(net)) { }

    bool isTorchScript() const override { return false; }
    torch::Tensor forward(const torch::Tensor &input) override { return m_net->forward(input); }
    int stageCount() const override { return m_net->stageCount(); }
    torch::Tensor forwardStages(const torch::Tensor &x, int from, int to) override { return m_net->run(x, from, to); }
    int stageOf(const std::string &weightName) const override
    {
        const size_t dot = weightName.rfind('.');
        return m_net->stageOfModule(dot == std::string::npos ? weightName : weightName.substr(0, dot));
    }
    void setTraining(bool on) override { m_net->train(on); }

    std::vector<std::pair<std::string, torch::Tensor>> parameters() const override
    {
        std::vector<std::pair<std::string, torch::Tensor>> out;
        for (const auto &p : m_net->named_parameters(true))
            out.emplace_back(p.key(), p.value());
        return out;
    }

    std::vector<WeightRef> weights() const override
    {
        std::vector<WeightRef> out;
        for (const auto &item : m_net->named_modules("", false)) {
            const auto &module = item.value();
            const char *kind = nullptr;
            torch::Tensor w;
            if (auto *c = module->as<nn::Conv2dImpl>()) {
                kind = "conv";
                w = c->weight;
            } else if (auto *l = module->as<nn::LinearImpl>()) {
                kind = "linear";
                w = l->weight;
            }
            if (kind)
                out.push_back({item.key() + ".weight", item.key(), kind, w});
        }
        return out;
    }

    std::vector<ModuleTensors> modules() const override
    {
        std::vector<ModuleTensors> out;
        for (const auto &item : m_net->named_modules("", true)) {
            ModuleTensors m;
            m.name = item.key();
            // "torch::nn::Conv2dImpl" -> "Conv2d", the name a TorchScript file of the same module carries.
            std::string type = item.value()->name();
            type = type.substr(type.rfind(':') == std::string::npos ? 0 : type.rfind(':') + 1);
            if (type.size() > 4 && type.compare(type.size() - 4, 4, "Impl") == 0)
                type.resize(type.size() - 4);
            m.type = type;
            for (const auto &p : item.value()->named_parameters(false))
                m.parameters.emplace_back(p.key(), p.value());
            for (const auto &b : item.value()->named_buffers(false))
                m.buffers.emplace_back(b.key(), b.value());
            if (!m.parameters.empty() || !m.buffers.empty())
                out.push_back(std::move(m));
        }
        return out;
    }

    std::string serialize() const override
    {
        // A TorchScript archive without methods: the tensors by name, metadata as an extra file.
        torch::jit::Module archive(c10::QualifiedName("__torch__.paramlock.ZooCheckpoint"));
        for (const auto &p : m_net->named_parameters(true))
            archive.register_parameter(p.key(), p.value().detach(), false);
        for (const auto &b : m_net->named_buffers(true))
            archive.register_buffer(b.key(), b.value().detach());
        std::ostringstream stream;
        archive.save(stream, {{"paramlock.json", meta.toJson()}});
        return stream.str();
    }

    std::unique_ptr<ModelImpl> clone() const override
    {
        auto copy = createZooModel(meta.architecture, meta);
        copy->path = path;
        auto *zoo = static_cast<ZooModel *>(copy.get());
        zoo->copyStateFrom(*m_net);
        zoo->m_net->train(m_net->is_training());
        return copy;
    }

    void copyStateFrom(const nn::Module &source)
    {
        torch::NoGradGuard noGrad;
        auto dst = m_net->named_parameters(true);
        for (const auto &p : source.named_parameters(true))
            dst[p.key()].copy_(p.value());
        auto dstBuffers = m_net->named_buffers(true);
        for (const auto &b : source.named_buffers(true))
            dstBuffers[b.key()].copy_(b.value());
    }

    void loadState(const torch::jit::Module &archive)
    {
        torch::NoGradGuard noGrad;
        for (auto &p : m_net->named_parameters(true)) {
            if (!archive.hasattr(p.key()))
                throw Failure("checkpoint lacks the parameter " + p.key() + " of " + meta.architecture);
            const auto t = archive.attr(p.key()).toTensor();
            if (t.sizes() != p.value().sizes())
                throw Failure("checkpoint parameter " + p.key() + " has the wrong shape for " + meta.architecture);
            p.value().copy_(t);
        }
        for (auto &b : m_net->named_buffers(true))
            if (archive.hasattr(b.key()))
                b.value().copy_(archive.attr(b.key()).toTensor());
    }

private:
    std::shared_ptr<ZooNetImpl> m_net;
};

} // namespace

std::vector<std::string> zooNames()
{
    return {"lenet5", "densenet-fmnist", "resnet56", "alexnet-gtsrb", "linear"};
}

std::unique_ptr<ModelImpl> createZooModel(const std::string &architecture, const ModelMetadata &meta)
{
    if (!meta.hasInputShape() || meta.classCount < 2)
        throw Failure("a zoo model needs an input shape and at least two classes");
    auto net = makeNet(architecture, meta);
    if (!net) {
        std::string names;
        for (const std::string &name : zooNames())
            names += (names.empty() ? "" : ", ") + name;
        throw Failure("unknown zoo architecture \"" + architecture + "\" (available: " + names + ")");
    }
    auto model = std::make_unique<ZooModel>(std::move(net));
    model->meta = meta;
    model->meta.architecture = architecture;
    return model;
}

std::unique_ptr<ModelImpl> loadZooModel(const torch::jit::Module &archive, const ModelMetadata &meta)
{
    auto model = createZooModel(meta.architecture, meta);
    static_cast<ZooModel *>(model.get())->loadState(archive);
    return model;
}

} // namespace paramlock
