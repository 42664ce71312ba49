#include "lockoutput.h"

#include "cliutil.h"
#include "parameterjson.h"
#include "text.h"

namespace paramlock::cli {

using nlohmann::json;

Expected<LockOutcome> lockWithProgress(Model &model, const Dataset &train, const Dataset &test,
    const MethodFlags::Choice &choice, const WorkflowOptions &options, CliProgress &progress)
{
    ProgressScope scope(progress);
    auto outcome = runLockWorkflow(model, train, test, *choice.method, choice.request, options, progress);
    progress.finish();
    return outcome;
}

namespace {

std::vector<std::string> layerNames(const LockResult &r)
{
    std::vector<std::string> layers;
    for (const LayerLockReport &l : r.layers)
        layers.push_back(l.layer);
    return layers;
}

} // namespace

json lockJson(const LockOutcome &o)
{
    const LockResult &r = o.result;
    const ProtectionMethod *method = methodById(o.method);
    json j = {{"method", o.method}, {"mode", r.key.mode}, {"n_encrypted", r.encryptedCount()},
        {"encryption_set_accuracy", r.finalAccuracy}, {"n_params", r.key.parameterCount},
        {"proportion", double(r.encryptedCount()) / double(std::max<int64_t>(1, r.key.parameterCount))},
        {"iterations", r.iterations}, {"initial_loss", r.initialLoss}, {"final_loss", r.finalLoss},
        {"reached_threshold", r.reachedTarget}, {"stop_reason", r.stopReason}, {"seconds", r.seconds},
        {"layers", layerNames(r)}, {"notes", r.notes}, {"threads", threadCount()},
        {"accuracy_before", o.accuracyBefore}, {"accuracy_after", o.accuracyAfter}, {"test_samples", o.testSamples},
        {"random_guess", o.randomGuess}, {"weak", o.weak()}, {"seed", o.request.seed}};
    if (o.weak())
        j["weakness"] = o.weakness;
    if (method)
        if (auto request = method->requestOf(r.key))
            j["settings"] = parametersToJson(method->parameters(), request->values);
    return j;
}

void printLockSummary(const LockOutcome &o)
{
    const LockResult &r = o.result;
    const ProtectionMethod *method = methodById(o.method);
    out() << "Method:            " << QString::fromStdString(method ? method->name() : o.method)
          << (r.key.mode.empty() ? QString() : QStringLiteral(", %1 mode").arg(QString::fromStdString(r.key.mode)))
          << "\n"
          << "Encrypted layers:  " << joined(layerNames(r)) << "\n"
          << "Iterations:        " << r.iterations << " (loss " << QString::number(r.initialLoss, 'f', 3) << " -> "
          << QString::number(r.finalLoss, 'f', 3) << ")\n"
          << "Stopped:           " << QString::fromStdString(r.stopReason) << "\n"
          << "Encrypted weights: " << r.encryptedCount() << " of " << r.key.parameterCount << " ("
          << QString::fromStdString(
                 percentText(double(r.encryptedCount()) / double(std::max<int64_t>(1, r.key.parameterCount)), 5))
          << ")\n"
          << "Lock time:         " << QString::number(r.seconds, 'f', 2) << " s\n";
    for (const auto &n : r.notes)
        out() << "Note:              " << QString::fromStdString(n) << "\n";
}

QString describeRequest(const ProtectionMethod &method, const LockRequest &request)
{
    QStringList parts;
    const std::string mode = method.modeOf(request.values);
    for (const ParameterSpec &spec : method.parameters()) {
        if (!spec.usedIn(mode))
            continue;
        const ParameterValue *v = request.values.find(spec.name);
        const ParameterValue &value = v ? *v : spec.defaultValue;
        const bool zero = meansZeroSetting(spec, value);
        if (spec.type == ParameterType::Layers
            && std::get<LayerSelection>(value).kind == LayerSelection::Kind::ModeDefault)
            continue;
        parts << QStringLiteral("%1=%2").arg(
            QString::fromStdString(spec.name), QString::fromStdString(zero ? "auto" : parameterText(spec, value)));
    }
    parts << QStringLiteral("seed=%1").arg(request.seed);
    return QString::fromStdString(method.name()) + QStringLiteral(": ") + parts.join(QStringLiteral(", "));
}

void warnWeak(const LockOutcome &o, const QString &keepHint)
{
    if (!o.weak())
        return;
    err() << "WARNING: weak lock: " << QString::fromStdString(o.weakness);
    if (!keepHint.isEmpty())
        err() << "; " << keepHint;
    err() << Qt::endl;
}

} // namespace paramlock::cli
