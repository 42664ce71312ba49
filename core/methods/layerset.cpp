// Which conv/FC layers a LayerSelection picks in a model: shared by every method with a layer set.
#include "layerset.h"

#include <algorithm>
#include <numeric>
#include <random>

namespace paramlock {

Expected<std::vector<std::string>> resolveLayerSelection(
    const Model &model, const LayerSelection &selection, uint64_t seed, std::vector<std::string> *notes)
{
    const std::vector<std::string> all = model.layerNames();
    if (all.empty())
        return Error{"the model has no convolution or fully-connected layer to encrypt"};
    std::vector<size_t> picked;
    if (selection.kind == LayerSelection::Kind::Named && !selection.names.empty()) {
        for (const std::string &name : selection.names) {
            const auto it = std::find(all.begin(), all.end(), name);
            if (it == all.end()) {
                // Accept the module name too ("conv1" for "conv1.weight").
                const auto alt = std::find(all.begin(), all.end(), name + ".weight");
                if (alt == all.end())
                    return Error{"the model has no conv/FC layer named \"" + name
                        + "\" (run `paramlock-cli info` to list them)"};
                picked.push_back(size_t(alt - all.begin()));
            } else {
                picked.push_back(size_t(it - all.begin()));
            }
        }
        std::sort(picked.begin(), picked.end());
        if (std::adjacent_find(picked.begin(), picked.end()) != picked.end())
            return Error{"a layer is listed twice in the layer set"};
    } else if (selection.kind == LayerSelection::Kind::All) {
        picked.resize(all.size());
        std::iota(picked.begin(), picked.end(), 0);
    } else if (selection.kind == LayerSelection::Kind::Random && selection.random > 0) {
        const size_t k = std::min(size_t(selection.random), all.size());
        if (k < size_t(selection.random) && notes)
            notes->push_back("asked for " + std::to_string(selection.random) + " random layers; the model has "
                + std::to_string(all.size()) + ", so all are used");
        std::vector<size_t> order(all.size());
        std::iota(order.begin(), order.end(), 0);
        std::mt19937_64 rng(seed);
        std::shuffle(order.begin(), order.end(), rng);
        picked.assign(order.begin(), order.begin() + long(k));
        std::sort(picked.begin(), picked.end());
    } else {
        return Error{"the layer selection is empty: name layers, ask for k random layers, or take all"};
    }
    std::vector<std::string> out;
    for (size_t i : picked)
        out.push_back(all[i]);
    return out;
}

} // namespace paramlock
