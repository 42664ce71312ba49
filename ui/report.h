#pragma once

#include "analysis.h"
#include "lockresult.h"
#include "expected.h"
#include "model.h"

#include <QString>

#include <vector>

namespace paramlock {

/** Everything a lock report shows. It holds no key material: no positions, no perturbations, no original values. */
struct ReportData
{
    QString modelName; ///< the model file's name
    QString datasetName;
    const Model *original = nullptr; ///< for Fig. 4
    const LockResult *lock = nullptr;
    double accuracyBefore = -1.0;
    double accuracyAfter = -1.0;
    double accuracyUnlocked = -1.0; ///< -1: not measured
    int64_t testSamples = 0;
    std::vector<Analysis> analyses;
};

/** Every conv/FC weight of a model in one list (Fig. 4's data). */
std::vector<float> allWeights(const Model &model);

/**
 * Writes the report as HTML (self-contained) and, when `pdfPath` is not
 * empty, as a PDF through Qt's print support; both atomically. Needs a
 * QApplication (the charts are widgets rendered off screen).
 */
Expected<void> writeReport(const ReportData &data, const QString &htmlPath, const QString &pdfPath = {});

} // namespace paramlock
