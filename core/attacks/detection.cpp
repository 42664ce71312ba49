// Stealth, measured: with the key in hand (the owner's view), how many secret positions does a statistical test on
// the locked weights rank first, and how far did each layer's mean and std move? Any Lock method: the secret
// positions are the weights that differ between the locked model and the original the key restores.
#include "attacks.h"

#include "modelimpl.h"
#include "unlock.h"

#include <cstring>
#include <set>

namespace paramlock {

Expected<std::vector<LayerDetection>> detectionAnalysis(const Model &locked, const SecretKey &key)
{
    auto original = unlockModel(locked, key);
    if (!original)
        return Error{original.error()};
    return guarded("detection analysis failed", [&]() -> Expected<std::vector<LayerDetection>> {
        std::vector<LayerDetection> out;
        const auto lockedWeights = locked.impl().weights();
        const auto originalWeights = original->impl().weights();
        for (size_t li = 0; li < lockedWeights.size(); ++li) {
            std::set<int64_t> secret;
            const float *now = floatData(lockedWeights[li].tensor);
            const float *was = floatData(originalWeights[li].tensor);
            for (int64_t i = 0; i < lockedWeights[li].tensor.numel(); ++i)
                if (std::memcmp(now + i, was + i, sizeof(float)) != 0)
                    secret.insert(i);
            if (secret.empty())
                continue;
            LayerDetection d;
            d.layer = lockedWeights[li].name;
            d.secretCount = int64_t(secret.size());
            const auto w = lockedWeights[li].tensor.detach().to(torch::kDouble);
            const auto o = originalWeights[li].tensor.detach().to(torch::kDouble);
            d.meanChange = (w.mean() - o.mean()).item<double>();
            d.stdChange = (w.std() - o.std()).item<double>();
            d.std = o.std().item<double>();
            d.maxAbsChange = (w - o).abs().max().item<double>();
            d.range = (o.max() - o.min()).item<double>();
            auto hits = [&](const torch::Tensor &score) {
                const auto top = std::get<1>(score.flatten().topk(d.secretCount)).contiguous();
                int64_t n = 0;
                for (int64_t i = 0; i < top.numel(); ++i)
                    n += secret.count(top.data_ptr<int64_t>()[i]) ? 1 : 0;
                return n;
            };
            d.zScoreHits = hits(((w - w.mean()) / w.std()).abs());
            // Against its own filter (conv) or row (linear): the weights that feed one output.
            const auto rows = w.reshape({w.size(0), -1});
            d.filterHits = rows.size(1) > 1
                ? hits(((rows - rows.mean(1, true)) / rows.std(1, true, true).clamp_min(1e-12)).abs())
                : 0;
            out.push_back(d);
        }
        return out;
    });
}

} // namespace paramlock
