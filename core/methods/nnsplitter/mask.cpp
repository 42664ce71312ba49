// Which weights NNSplitter obfuscates (METHODS.md §2, steps 1 and 3): the eligible layers, and inside the chosen
// filters of each, the weights whose values lie in a narrow window around a constant c. With no explicit window, its
// half-width is the distance that takes exactly the weight budget: the budget's nearest weights to c.
#include "nnsplitter.h"

#include <algorithm>
#include <cmath>
#include <tuple>

namespace paramlock {

namespace {
// The default budget scales with the model, as AdvParams' strong mode's does: 0.01% of the parameters (the bound
// asked for on a ResNet-18), between a floor and a ceiling that bounds the largest. The floor is measured: on the
// shipped LeNet-5, 64 weights leave 10-56% (5 seeds, best of 10 draws), 128 weights 10.0-11.6% (docs/findings.md).
constexpr int64_t kBudgetFloor = 128;
constexpr int64_t kBudgetCeiling = 4096;
constexpr int64_t kParametersPerBudgetWeight = 10000;
} // namespace

int64_t WindowMask::count() const
{
    int64_t n = 0;
    for (const MaskedLayer &l : layers)
        n += int64_t(l.indices.size());
    return n;
}

std::vector<EligibleLayer> eligibleLayers(const Model &model, bool pointwise)
{
    std::vector<EligibleLayer> out;
    for (const LayerInfo &info : model.layers()) {
        if (info.shape.size() < 2 || info.shape[0] < 1)
            continue;
        const bool linear = info.kind == "linear";
        const bool wideKernel = info.kind == "conv" && info.shape.size() >= 3 && info.shape.back() > 1;
        const bool pointwiseKernel = info.kind == "conv" && info.shape.size() >= 3 && info.shape.back() == 1;
        if (!(linear || wideKernel || (pointwise && pointwiseKernel)))
            continue;
        out.push_back({info.name, info.shape[0], info.count / info.shape[0]});
    }
    return out;
}

double windowCentre(const Model &model, const NNSplitterSettings &settings)
{
    if (settings.centre != 0.0)
        return settings.centre;
    // The authors' advice: the mean of the convolution weights; a model without convolutions takes its FC weights.
    double sum = 0.0;
    int64_t n = 0;
    for (const bool convOnly : {true, false}) {
        for (const LayerInfo &info : model.layers()) {
            if (convOnly && info.kind != "conv")
                continue;
            sum += info.mean * double(info.count);
            n += info.count;
        }
        if (n > 0)
            break;
    }
    return n > 0 ? sum / double(n) : 0.0;
}

int64_t nnSplitterBudget(const NNSplitterSettings &settings, int64_t parameterCount)
{
    if (settings.maxWeights > 0)
        return settings.maxWeights;
    return std::clamp<int64_t>(parameterCount / kParametersPerBudgetWeight, kBudgetFloor, kBudgetCeiling);
}

std::string nnSplitterBudgetRule()
{
    return "0.01% of the parameters, at least " + std::to_string(kBudgetFloor) + " and at most "
        + std::to_string(kBudgetCeiling);
}

Expected<WindowMask> windowMask(const Model &model, const std::vector<EligibleLayer> &layers,
    const FilterChoice &choice, double centre, double window, int64_t budget, const LiveWeights &live)
{
    if (choice.size() != layers.size() || (!live.empty() && live.size() != layers.size()))
        return Error{"internal error: a filter choice for " + std::to_string(choice.size()) + " layers, not "
            + std::to_string(layers.size())};
    struct Candidate
    {
        double distance;
        size_t layer;
        int64_t index;
    };
    std::vector<Candidate> candidates;
    for (size_t l = 0; l < layers.size(); ++l) {
        if (choice[l].empty())
            continue;
        auto values = model.weights(layers[l].layer);
        if (!values)
            return Error{values.error()};
        for (int64_t filter : choice[l]) {
            if (filter < 0 || filter >= layers[l].filters)
                return Error{"filter " + std::to_string(filter) + " is outside " + layers[l].layer + " ("
                    + std::to_string(layers[l].filters) + " filters)"};
            const int64_t begin = filter * layers[l].filterSize;
            for (int64_t i = begin; i < begin + layers[l].filterSize; ++i) {
                if (!live.empty() && (size_t(i) >= live[l].size() || !live[l][size_t(i)]))
                    continue;
                const double d = std::abs(double((*values)[size_t(i)]) - centre);
                if (window > 0.0 ? d < window : true)
                    candidates.push_back({d, l, i});
            }
        }
    }
    if (window <= 0.0) {
        if (budget < 1)
            return Error{"the weight budget must be at least 1"};
        const auto byDistance = [](const Candidate &a, const Candidate &b) {
            return std::tie(a.distance, a.layer, a.index) < std::tie(b.distance, b.layer, b.index);
        };
        if (int64_t(candidates.size()) > budget) {
            std::nth_element(candidates.begin(), candidates.begin() + budget - 1, candidates.end(), byDistance);
            candidates.resize(size_t(budget));
        }
    }
    if (candidates.empty() && window <= 0.0)
        return Error{"no weight of the chosen filters is reached by the data: choose other filters"};
    if (candidates.empty())
        return Error{"no weight of the chosen filters lies within " + std::to_string(window) + " of "
            + std::to_string(centre) + ": widen the window (--window) or leave it at its default"};

    WindowMask mask;
    mask.centre = centre;
    mask.window = window;
    std::vector<std::vector<int64_t>> byLayer(layers.size());
    double widest = 0.0;
    for (const Candidate &c : candidates) {
        byLayer[c.layer].push_back(c.index);
        widest = std::max(widest, c.distance);
    }
    if (window <= 0.0)
        mask.window = widest;
    for (size_t l = 0; l < layers.size(); ++l) {
        if (byLayer[l].empty())
            continue;
        std::sort(byLayer[l].begin(), byLayer[l].end());
        mask.layers.push_back({layers[l].layer, std::move(byLayer[l])});
    }
    return mask;
}

} // namespace paramlock
