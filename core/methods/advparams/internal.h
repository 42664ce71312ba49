#pragma once

// Internal to AdvParams: what its files share beyond the public advparams.h (torch-free).

#include "advparams.h"
#include "keyedmethod.h"
#include "parametertable.h"

namespace paramlock::advparams {

/** The id of the method in key files and on the command line. */
constexpr const char *kMethodId = "advparams";

/** The method's parameters bound to AdvParamsSettings (method.cpp). */
const ParameterTable<AdvParamsSettings> &parameterTable();

/** The encryption set's positions in the training split (lock.cpp). */
Expected<std::vector<int64_t>> encryptionSetIndices(const Dataset &train, const AdvParamsSettings &settings);

/** The default weight budget, in words, for help texts (lock.cpp, beside strongModeBudget). */
std::string budgetRule();

/** The analyses only AdvParams has, and running them (analyses.cpp). */
std::vector<AnalysisSpec> advParamsAnalyses();
Expected<Analysis> runAdvParamsAnalysis(const std::string &kind, const AnalysisContext &context, Progress &progress);

/** Whether every entry of the key names a weight of `model` (algorithm2.cpp). */
KeyFit checkEntries(const Model &model, const AdvParamsKey &secret);
/** Algorithm 2 in place, verified by the original's fingerprint; on a mismatch the model is left locked. */
Expected<void> restoreWeights(Model &model, const SecretKey &key, const AdvParamsKey &secret, UnlockTiming &timing);

} // namespace paramlock::advparams
