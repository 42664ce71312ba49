#pragma once

// Internal to core: a TorchScript forward split into a chain of stages, so that a lock can run the stages below
// the layer it changes once instead of every iteration (the zoo networks declare their stages by hand; a user's
// TorchScript file has only its graph).

#include "modelimpl.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace torch::jit {
struct GraphFunction;
}

namespace paramlock {

/** A module's result as class scores: the tensor, or the first tensor of a tuple; undefined for anything else. */
torch::Tensor classScores(const torch::jit::IValue &out);

/**
 * The forward graph of a scripted or traced module, inlined, cut where exactly one tensor carries everything the
 * rest of the graph needs (a chain: torchvision's ResNet/VGG/MobileNet/DenseNet, nn.Sequential stacks, LeNet-style
 * modules). A cut is kept only in front of a layer's first use of its weight, and only where nothing after it
 * writes into that tensor in place. Each stage is the graph's nodes between two cuts, compiled on its own; constants
 * and module attributes are read again in every stage that uses them.
 */
class ScriptChain
{
public:
    /**
     * Splits `module`'s forward. When it cannot (the forward takes more than one input, assigns attributes, is not
     * a chain, or the stages do not reproduce forward() bit for bit on `probe`), stageCount() is 1 and reason() says
     * why.
     */
    ScriptChain(const torch::jit::Module &module, const torch::Tensor &probe);
    /** One stage, for `reason`. */
    explicit ScriptChain(std::string reason) : m_reason(std::move(reason)) { }
    ~ScriptChain();
    ScriptChain(const ScriptChain &) = delete;
    ScriptChain &operator=(const ScriptChain &) = delete;

    int stageCount() const { return m_stages.empty() ? 1 : int(m_stages.size()); }
    /** Stages [from, to) on `x`: forward() when from = 0 and to = stageCount(). */
    torch::jit::IValue run(const torch::jit::Module &module, const torch::Tensor &x, int from, int to) const;
    /** The first stage that reads the parameter `name` (0 when unknown). */
    int stageOf(const std::string &name) const;
    /** Why the forward runs as one stage, or "" when it was split. */
    const std::string &reason() const { return m_reason; }

private:
    std::string split(const torch::jit::Module &module, const torch::Tensor &probe);

    std::vector<std::unique_ptr<torch::jit::GraphFunction>> m_stages;
    std::map<std::string, int> m_stageOf;
    std::string m_reason;
};

} // namespace paramlock
