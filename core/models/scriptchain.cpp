// Splitting a TorchScript forward into stages. The graph is inlined down to aten operations reading module
// attributes; a cut after node i is possible where exactly one value that is neither a constant nor read from the
// module is defined at or before i and used after it, that value is a tensor, and no node after i writes into it
// (an in-place ReLU on a cached activation would change it for the next iteration).
#include "scriptchain.h"

#include <torch/csrc/jit/api/function_impl.h>
#include <torch/csrc/jit/ir/alias_analysis.h>
#include <torch/csrc/jit/passes/inliner.h>

#include <algorithm>
#include <functional>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace paramlock {

using torch::jit::Block;
using torch::jit::Graph;
using torch::jit::Node;
using torch::jit::Value;

namespace {

Node *topLevel(Node *n, const Block *top)
{
    while (n->owningBlock() != top)
        n = n->owningBlock()->owningNode();
    return n;
}

bool isTensor(const Value *v)
{
    return v->type()->kind() == c10::TypeKind::TensorType;
}

/** Calls `fn` on every node of `block` and of the blocks nested in its nodes, in order. */
void forEachNode(Block *block, const std::function<void(Node *)> &fn)
{
    for (Node *n : block->nodes()) {
        fn(n);
        for (Block *b : n->blocks())
            forEachNode(b, fn);
    }
}

} // namespace

torch::Tensor classScores(const torch::jit::IValue &out)
{
    if (out.isTensor())
        return out.toTensor();
    if (out.isTuple() && !out.toTupleRef().elements().empty() && out.toTupleRef().elements()[0].isTensor())
        return out.toTupleRef().elements()[0].toTensor();
    return {};
}

ScriptChain::ScriptChain(const torch::jit::Module &module, const torch::Tensor &probe)
{
    try {
        m_reason = split(module, probe);
    } catch (const std::exception &e) {
        m_reason = std::string("its graph could not be split (") + e.what() + ")";
    }
    if (!m_reason.empty()) {
        m_stages.clear();
        m_stageOf.clear();
    }
}

ScriptChain::~ScriptChain() = default;

std::string ScriptChain::split(const torch::jit::Module &module, const torch::Tensor &probe)
{
    const auto method = module.find_method("forward");
    if (!method)
        return "it has no forward()";
    auto graph = method->graph()->copy();
    torch::jit::Inline(*graph);
    if (graph->inputs().size() != 2)
        return "its forward() takes " + std::to_string(graph->inputs().size() - 1) + " inputs";
    Block *top = graph->block();
    Value *self = graph->inputs()[0];
    Value *input = graph->inputs()[1];

    std::vector<Node *> nodes(top->nodes().begin(), top->nodes().end());
    const int count = int(nodes.size());
    std::unordered_map<const Node *, int> position;
    for (int i = 0; i < count; ++i)
        position[nodes[size_t(i)]] = i;
    position[graph->return_node()] = count;
    const auto positionOf = [&](Node *user) { return position.at(topLevel(user, top)); };

    torch::jit::AliasDb aliases(graph);
    bool assigns = false;
    std::vector<std::pair<Node *, int>> writers; // nodes that write in place, with their top-level position
    forEachNode(top, [&](Node *n) {
        if (n->kind() == c10::prim::SetAttr)
            assigns = true;
        const auto *schema = n->maybeSchema();
        if (schema && schema->is_mutable())
            writers.emplace_back(n, positionOf(n));
    });
    if (assigns)
        return "its forward() assigns module attributes";

    // Values any stage can read again: constants, attributes of the module, lists and tuples of those.
    std::unordered_set<const Value *> free{self};
    std::unordered_map<const Value *, std::string> path{{self, ""}};
    forEachNode(top, [&](Node *n) {
        if (n->kind() == c10::prim::GetAttr && path.count(n->input(0))) {
            const std::string &parent = path.at(n->input(0));
            path[n->output()] = parent.empty() ? n->s(c10::attr::name) : parent + "." + n->s(c10::attr::name);
        }
    });
    for (Node *n : nodes) {
        const auto kind = n->kind();
        const bool inputsFree =
            std::all_of(n->inputs().begin(), n->inputs().end(), [&](const Value *v) { return free.count(v) > 0; });
        bool isFree = kind == c10::prim::Constant || (kind == c10::prim::GetAttr && inputsFree);
        if ((kind == c10::prim::ListConstruct || kind == c10::prim::TupleConstruct) && inputsFree)
            isFree = !aliases.hasWriters(n->output());
        if (isFree)
            for (const Value *o : n->outputs())
                free.insert(o);
    }
    const auto isFreeNode = [&](const Node *n) {
        return !n->outputs().empty()
            && std::all_of(n->outputs().begin(), n->outputs().end(), [&](const Value *v) { return free.count(v); });
    };

    // Where each parameter is first read.
    std::map<std::string, int> firstUse;
    forEachNode(top, [&](Node *n) {
        if (n->kind() != c10::prim::GetAttr || !path.count(n->output()) || !isTensor(n->output()))
            return;
        for (const auto &use : n->output()->uses()) {
            const int at = positionOf(use.user);
            auto it = firstUse.find(path.at(n->output()));
            if (it == firstUse.end())
                firstUse.emplace(path.at(n->output()), at);
            else
                it->second = std::min(it->second, at);
        }
    });

    // The values live across each cut: defined at or before i, used after it.
    std::vector<int> liveCount(size_t(count), 0);
    std::vector<Value *> liveValue(size_t(count), nullptr);
    const auto addLive = [&](Value *v, int defined) {
        int last = -1;
        for (const auto &use : v->uses())
            last = std::max(last, positionOf(use.user));
        for (int i = std::max(defined, 0); i < last; ++i) {
            ++liveCount[size_t(i)];
            liveValue[size_t(i)] = v;
        }
    };
    addLive(input, -1);
    for (int i = 0; i < count; ++i)
        for (Value *o : nodes[size_t(i)]->outputs())
            if (!free.count(o))
                addLive(o, i);
    const auto validCut = [&](int i) {
        if (liveCount[size_t(i)] != 1 || !isTensor(liveValue[size_t(i)]))
            return false;
        const torch::jit::ValueSet carried{liveValue[size_t(i)]};
        return std::none_of(writers.begin(), writers.end(),
            [&](const auto &w) { return w.second > i && aliases.writesToAlias(w.first, carried); });
    };

    // One cut in front of each parameter's first reader, as late as possible, where the stage before computes.
    std::set<int> readers;
    for (const auto &[name, at] : firstUse)
        if (at < count)
            readers.insert(at);
    std::vector<int> cuts;
    for (int reader : readers) {
        int c = reader - 1;
        while (c >= 0 && !validCut(c))
            --c;
        if (c < 0 || (!cuts.empty() && c <= cuts.back()))
            continue;
        const int from = cuts.empty() ? 0 : cuts.back() + 1;
        bool computes = false;
        for (int i = from; i <= c && !computes; ++i)
            computes = !isFreeNode(nodes[size_t(i)]);
        if (computes)
            cuts.push_back(c);
    }
    if (cuts.empty())
        return "its forward() is not a chain of layers";

    // Each stage as a graph of its own: (self, the activation entering it) -> the activation leaving it.
    const auto selfType = self->type();
    for (size_t s = 0; s <= cuts.size(); ++s) {
        const int begin = s == 0 ? 0 : cuts[s - 1] + 1;
        const int end = s == cuts.size() ? count - 1 : cuts[s];
        Value *entering = s == 0 ? input : liveValue[size_t(cuts[s - 1])];
        auto g = std::make_shared<Graph>();
        Value *selfIn = g->addInput("self")->setType(selfType);
        Value *xIn = g->addInput("x")->setType(entering->type());
        std::unordered_map<Value *, Value *> env{{self, selfIn}, {entering, xIn}};
        std::function<Value *(Value *)> lookup = [&](Value *v) -> Value * {
            if (auto it = env.find(v); it != env.end())
                return it->second;
            if (!free.count(v))
                throw std::runtime_error("a value crosses a cut");
            Node *def = v->node();
            Node *copy = g->appendNode(g->createClone(def, lookup));
            for (size_t k = 0; k < def->outputs().size(); ++k)
                env[def->outputs()[k]] = copy->outputs()[k];
            return env.at(v);
        };
        for (int i = begin; i <= end; ++i) {
            Node *n = nodes[size_t(i)];
            if (isFreeNode(n))
                continue; // read again where used
            Node *copy = g->appendNode(g->createClone(n, lookup));
            for (size_t k = 0; k < n->outputs().size(); ++k)
                env[n->outputs()[k]] = copy->outputs()[k];
        }
        if (s == cuts.size()) {
            for (Value *o : graph->outputs())
                g->registerOutput(lookup(o));
        } else {
            g->registerOutput(lookup(liveValue[size_t(cuts[s])]));
        }
        m_stages.push_back(std::make_unique<torch::jit::GraphFunction>(
            c10::QualifiedName("paramlock.stage" + std::to_string(s)), g, nullptr));
    }
    for (const auto &[name, at] : firstUse)
        m_stageOf[name] = int(std::upper_bound(cuts.begin(), cuts.end(), at - 1) - cuts.begin());

    if (!probe.defined())
        return "its input shape is unknown";
    torch::NoGradGuard noGrad;
    torch::jit::Module handle = module; // the same module: forward() is not const
    const torch::Tensor whole = classScores(handle.forward({probe}));
    const torch::Tensor staged = classScores(run(module, probe, 0, stageCount()));
    if (!whole.defined() || !staged.defined() || !torch::equal(whole, staged))
        return "its stages did not reproduce forward() bit for bit";
    return "";
}

torch::jit::IValue ScriptChain::run(const torch::jit::Module &module, const torch::Tensor &x, int from, int to) const
{
    torch::jit::IValue current = x;
    for (int s = from; s < to; ++s) {
        torch::jit::Stack stack{torch::jit::IValue(module._ivalue()), std::move(current)};
        m_stages[size_t(s)]->run(stack);
        current = std::move(stack.back());
    }
    return current;
}

int ScriptChain::stageOf(const std::string &name) const
{
    const auto it = m_stageOf.find(name);
    return it == m_stageOf.end() ? 0 : it->second;
}

} // namespace paramlock
