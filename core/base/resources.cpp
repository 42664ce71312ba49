#include "resources.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QStringList>

namespace paramlock {

std::string shippedFile(const std::string &relativePath)
{
    QStringList dirs;
    const QByteArray env = qgetenv("PARAMLOCK_RESOURCES");
    if (!env.isEmpty())
        dirs << QString::fromLocal8Bit(env);
    if (QCoreApplication::instance())
        dirs << QCoreApplication::applicationDirPath() + QStringLiteral("/../share/paramlock");
    dirs << QStringLiteral(PARAMLOCK_INSTALLED_RESOURCES_DIR) << QStringLiteral(PARAMLOCK_SOURCE_RESOURCES_DIR);
    const QString name = QString::fromStdString(relativePath);
    for (const QString &d : dirs)
        if (QFileInfo::exists(d + QLatin1Char('/') + name))
            return QDir::cleanPath(d + QLatin1Char('/') + name).toStdString();
    return {};
}

std::string demoModelPath()
{
    return shippedFile("models/lenet5-fmnist.pt");
}

} // namespace paramlock
