#include "commands.h"

#include "cliutil.h"

#include <nlohmann/json.hpp>

namespace paramlock::cli {

using nlohmann::json;

int cmdInfo(const QStringList &args)
{
    QCommandLineParser p;
    int code = Usage;
    if (!parse(p, args,
            QStringLiteral("Lists a model's conv/FC layers with shapes, parameter counts and weight ranges."),
            {kModel, kJson}, code))
        return code;
    auto model = openModel(p);
    if (!model)
        return fail(model.error());
    const auto layers = model->layers();
    const ModelMetadata &m = model->metadata();
    if (p.isSet(kJson)) {
        json j;
        j["model"] = p.value(kModel).toStdString();
        j["format"] = model->isTorchScript() ? "torchscript" : "zoo";
        j["architecture"] = m.architecture;
        j["n_params"] = model->parameterCount();
        j["fingerprint"] = model->fingerprint();
        j["input_shape"] = {m.channels, m.height, m.width};
        j["num_classes"] = m.classCount;
        j["mean"] = m.normalization.mean;
        j["std"] = m.normalization.std;
        json list = json::array();
        for (const auto &l : layers)
            list.push_back({{"name", l.name}, {"kind", l.kind}, {"shape", l.shape}, {"count", l.count}, {"min", l.min},
                {"max", l.max}, {"mean", l.mean}, {"std", l.std}});
        j["layers"] = list;
        if (!m.trainingRecord.empty())
            j["training"] = json::parse(m.trainingRecord, nullptr, false);
        out() << QString::fromStdString(j.dump(2)) << Qt::endl;
        return Ok;
    }
    out() << "Model:        " << p.value(kModel) << "\n"
          << "Format:       " << (model->isTorchScript() ? "TorchScript" : "ParamLock zoo checkpoint") << " ("
          << QString::fromStdString(m.architecture) << ")\n"
          << "Parameters:   " << model->parameterCount() << "\n"
          << "Conv/FC:      " << layers.size() << " layers\n"
          << "Input:        "
          << (m.hasInputShape() ? QStringLiteral("%1x%2x%3").arg(m.channels).arg(m.height).arg(m.width)
                                : QStringLiteral("unknown (pass --data when locking)"))
          << ", " << (m.classCount ? QString::number(m.classCount) : QStringLiteral("unknown")) << " classes\n"
          << "Fingerprint:  " << QString::fromStdString(model->fingerprint()) << "\n\n";
    out() << QStringLiteral("%1  %2  %3  %4  %5  %6  %7  %8\n")
                 .arg(QStringLiteral("#"), 3)
                 .arg(QStringLiteral("layer"), -28)
                 .arg(QStringLiteral("kind"), -6)
                 .arg(QStringLiteral("shape"), -16)
                 .arg(QStringLiteral("params"), 9)
                 .arg(QStringLiteral("min"), 10)
                 .arg(QStringLiteral("max"), 10)
                 .arg(QStringLiteral("std"), 9);
    int i = 0;
    for (const auto &l : layers) {
        QStringList shape;
        for (auto s : l.shape)
            shape << QString::number(s);
        out() << QStringLiteral("%1  %2  %3  %4  %5  %6  %7  %8\n")
                     .arg(i++, 3)
                     .arg(QString::fromStdString(l.name), -28)
                     .arg(QString::fromStdString(l.kind), -6)
                     .arg(shape.join(QLatin1Char('x')), -16)
                     .arg(l.count, 9)
                     .arg(double(l.min), 10, 'f', 5)
                     .arg(double(l.max), 10, 'f', 5)
                     .arg(l.std, 9, 'f', 5);
    }
    return Ok;
}

} // namespace paramlock::cli
