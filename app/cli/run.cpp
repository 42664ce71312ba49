#include "commands.h"

#include "cliutil.h"
#include "password.h"

#include "securenet.h"
#include "unlocked.h"

#include <functional>

#include <nlohmann/json.hpp>

namespace paramlock::cli {

using nlohmann::json;

int cmdRun(const QStringList &args)
{
    const QCommandLineOption key({QStringLiteral("k"), QStringLiteral("key")},
        QStringLiteral("Secret key file (plain or password-protected)."), QStringLiteral("FILE"));
    const QCommandLineOption licence(QStringLiteral("licence"),
        QStringLiteral("A SecureNet licence (plain or password-protected): stamped on every image instead of "
                       "unlocking."),
        QStringLiteral("FILE"));
    const QCommandLineOption input(QStringLiteral("input"),
        QStringLiteral("Input size C,H,W for models that do not record it (e.g. 1,28,28)."), QStringLiteral("C,H,W"));
    const PasswordFlags password;
    QCommandLineParser p;
    int code = Usage;
    p.addPositionalArgument(QStringLiteral("IMAGE"), QStringLiteral("Images to classify."), QStringLiteral("IMAGE..."));
    if (!parse(p, args,
            QStringLiteral("Unlocks a model in memory and classifies images with it; the unlocked weights never touch "
                           "the disk. With --licence, stamps a SecureNet licence on every image instead."),
            QList<QCommandLineOption>{kModel, key, licence, input, kThreads, kJson} + password.all(), code, true))
        return code;
    applyThreads(p);
    const QStringList images = p.positionalArguments();
    if (!p.isSet(kModel) || p.isSet(key) == p.isSet(licence))
        return fail("--model and one of --key or --licence are required", Usage);
    if (images.isEmpty())
        return fail("name at least one image to classify", Usage);
    const QString secretPath = p.value(p.isSet(key) ? key : licence);
    auto opened = openKeyFromCli(secretPath.toStdString(), p, password);
    if (!opened)
        return fail(opened.error());
    auto locked = openModel(p);
    if (!locked)
        return fail(locked.error());
    if (p.isSet(input)) {
        const QStringList parts = p.value(input).split(QLatin1Char(','));
        int64_t c = 0, h = 0, w = 0;
        if (parts.size() != 3 || !toInt64(parts[0], c) || !toInt64(parts[1], h) || !toInt64(parts[2], w) || c < 1
            || h < 1 || w < 1)
            return fail("--input expects C,H,W, e.g. 1,28,28", Usage);
        ModelMetadata meta = locked->metadata();
        meta.channels = int(c);
        meta.height = int(h);
        meta.width = int(w);
        locked->setMetadata(meta);
    }
    std::function<Expected<std::vector<Classification>>(const std::vector<std::string> &)> classify;
    if (p.isSet(licence)) {
        auto model = LicensedModel::use(*locked, *opened);
        if (!model)
            return fail(secretPath.toStdString() + ": " + model.error());
        classify = [m = std::move(*model)](const std::vector<std::string> &paths) { return m.classifyFiles(paths); };
    } else {
        auto model = UnlockedModel::unlock(*locked, *opened);
        if (!model)
            return fail(model.error());
        classify = [m = std::move(*model)](const std::vector<std::string> &paths) { return m.classifyFiles(paths); };
    }
    std::vector<std::string> paths;
    for (const QString &i : images)
        paths.push_back(i.toStdString());
    auto classes = classify(paths);
    if (!classes)
        return fail(classes.error());
    if (p.isSet(kJson)) {
        json list = json::array();
        for (const Classification &c : *classes)
            list.push_back(
                {{"image", c.source}, {"class", c.label}, {"name", c.className}, {"probability", c.probability}});
        out() << QString::fromStdString(list.dump(2)) << Qt::endl;
    } else {
        for (const Classification &c : *classes)
            out() << QString::fromStdString(c.source) << '\t' << c.label << '\t' << QString::fromStdString(c.className)
                  << '\t' << QString::number(double(c.probability), 'f', 4) << '\n';
        out().flush();
    }
    return Ok;
}

} // namespace paramlock::cli
