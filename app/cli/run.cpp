#include "commands.h"

#include "cliutil.h"
#include "password.h"

#include "unlocked.h"

#include <nlohmann/json.hpp>

namespace paramlock::cli {

using nlohmann::json;

int cmdRun(const QStringList &args)
{
    const QCommandLineOption key({QStringLiteral("k"), QStringLiteral("key")},
        QStringLiteral("Secret key file (plain or password-protected)."), QStringLiteral("FILE"));
    const QCommandLineOption input(QStringLiteral("input"),
        QStringLiteral("Input size C,H,W for models that do not record it (e.g. 1,28,28)."), QStringLiteral("C,H,W"));
    const PasswordFlags password;
    QCommandLineParser p;
    int code = Usage;
    p.addPositionalArgument(QStringLiteral("IMAGE"), QStringLiteral("Images to classify."), QStringLiteral("IMAGE..."));
    if (!parse(p, args,
            QStringLiteral("Unlocks a model in memory and classifies images with it; the unlocked weights never touch "
                           "the disk."),
            QList<QCommandLineOption>{kModel, key, input, kThreads, kJson} + password.all(), code, true))
        return code;
    applyThreads(p);
    const QStringList images = p.positionalArguments();
    if (!p.isSet(kModel) || !p.isSet(key))
        return fail("--model and --key are required", Usage);
    if (images.isEmpty())
        return fail("name at least one image to classify", Usage);
    auto opened = openKeyFromCli(p.value(key).toStdString(), p, password);
    if (!opened)
        return fail(opened.error());
    auto locked = openModel(p);
    if (!locked)
        return fail(locked.error());
    auto model = UnlockedModel::unlock(*locked, *opened);
    if (!model)
        return fail(model.error());
    if (p.isSet(input)) {
        const QStringList parts = p.value(input).split(QLatin1Char(','));
        int64_t c = 0, h = 0, w = 0;
        if (parts.size() != 3 || !toInt64(parts[0], c) || !toInt64(parts[1], h) || !toInt64(parts[2], w) || c < 1
            || h < 1 || w < 1)
            return fail("--input expects C,H,W, e.g. 1,28,28", Usage);
        model->setInputShape(int(c), int(h), int(w));
    }
    std::vector<std::string> paths;
    for (const QString &i : images)
        paths.push_back(i.toStdString());
    auto classes = model->classifyFiles(paths);
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
