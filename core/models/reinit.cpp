// Fresh weights for an architecture, by PyTorch's default initialisation rules per module type: the starting point
// of a thief who trains the same network from scratch (the attacker-advantage analysis's baseline).
#include "modelimpl.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

namespace paramlock {

namespace {

bool startsWith(const std::string &s, const char *prefix)
{
    return s.rfind(prefix, 0) == 0;
}

bool isNormType(const std::string &type)
{
    return startsWith(type, "BatchNorm") || startsWith(type, "SyncBatchNorm") || startsWith(type, "InstanceNorm")
        || type == "GroupNorm" || type == "LayerNorm" || type == "LocalResponseNorm";
}

bool isWeightedType(const std::string &type)
{
    return startsWith(type, "Conv") || startsWith(type, "Linear") || type == "Bilinear" || startsWith(type, "Lazy");
}

/** torch.nn.init's fan-in: the size of dimension 1 times the receptive field (every dimension after it). */
double fanIn(const torch::Tensor &w)
{
    if (w.dim() < 2)
        return double(w.numel());
    double fan = double(w.size(1));
    for (int64_t d = 2; d < w.dim(); ++d)
        fan *= double(w.size(d));
    return fan;
}

void uniform(torch::Tensor &t, double bound, at::Generator &gen)
{
    if (bound > 0.0)
        t.uniform_(-bound, bound, gen);
    else
        t.zero_();
}

/** One module's parameters and buffers, PyTorch's reset_parameters() for its type. */
void resetModule(const ModuleTensors &m, at::Generator &gen)
{
    // Fan-in of the module's weight (its first tensor of rank 2 or more), for its biases.
    double bound = 0.0;
    for (const auto &p : m.parameters)
        if (p.second.dim() >= 2) {
            bound = 1.0 / std::sqrt(std::max(1.0, fanIn(p.second)));
            break;
        }
    const bool norm = isNormType(m.type);
    for (auto p : m.parameters) {
        torch::Tensor &t = p.second;
        const std::string &name = p.first;
        if (m.type == "Embedding" || m.type == "EmbeddingBag")
            t.normal_(0.0, 1.0, gen);
        else if (norm)
            name.find("bias") != std::string::npos ? t.zero_() : t.fill_(1.0);
        else if (t.dim() >= 2)
            uniform(t, 1.0 / std::sqrt(std::max(1.0, fanIn(t))), gen); // kaiming_uniform_(a = sqrt(5))
        else if (name.find("bias") != std::string::npos || isWeightedType(m.type))
            uniform(t, bound, gen);
        else
            t.fill_(1.0); // a per-channel scale of a custom module
    }
    if (!norm)
        return;
    for (auto b : m.buffers) {
        if (b.first == "running_mean")
            b.second.zero_();
        else if (b.first == "running_var")
            b.second.fill_(1.0);
        else if (b.first == "num_batches_tracked")
            b.second.zero_();
    }
}

} // namespace

std::vector<ModuleInfo> Model::modules() const
{
    std::vector<ModuleInfo> out;
    for (const ModuleTensors &m : d->modules()) {
        ModuleInfo info{m.name, m.type, {}, {}};
        const std::string prefix = m.name.empty() ? "" : m.name + ".";
        for (const auto &p : m.parameters)
            info.parameters.push_back(prefix + p.first);
        for (const auto &b : m.buffers)
            info.buffers.push_back(prefix + b.first);
        out.push_back(std::move(info));
    }
    return out;
}

Expected<std::vector<float>> Model::values(const std::string &name) const
{
    return guarded("cannot read " + name, [&]() -> Expected<std::vector<float>> {
        for (const ModuleTensors &m : d->modules()) {
            const std::string prefix = m.name.empty() ? "" : m.name + ".";
            for (const auto *list : {&m.parameters, &m.buffers})
                for (const auto &t : *list)
                    if (prefix + t.first == name) {
                        const auto flat = t.second.detach().to(torch::kFloat32).contiguous().flatten();
                        return std::vector<float>(flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
                    }
        }
        return Error{"the model has no parameter or buffer named " + name};
    });
}

Expected<Model> Model::reinitialised(uint64_t seed) const
{
    return guarded("cannot re-initialise the model", [&]() -> Expected<Model> {
        Model fresh = clone();
        auto gen = at::detail::createCPUGenerator(seed);
        torch::NoGradGuard noGrad;
        for (const ModuleTensors &m : fresh.impl().modules())
            resetModule(m, gen);
        return fresh;
    });
}

} // namespace paramlock
