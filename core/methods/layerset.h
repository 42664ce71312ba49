#pragma once

#include "expected.h"
#include "model.h"
#include "parameters.h"

#include <string>
#include <vector>

namespace paramlock {

/**
 * The conv/FC weight names `selection` picks in `model`, in model order: named ones (a module name stands for its
 * weight), all of them, or k drawn with `seed` (all, with a note, when the model has fewer). An unknown or repeated
 * name and an empty selection are errors that say what to do.
 */
Expected<std::vector<std::string>> resolveLayerSelection(
    const Model &model, const LayerSelection &selection, uint64_t seed, std::vector<std::string> *notes = nullptr);

} // namespace paramlock
