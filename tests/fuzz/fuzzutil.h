#pragma once

#include <QDir>
#include <QFile>
#include <QTemporaryDir>

#include <cstdint>
#include <string>

// Readers take paths, so each input is written to a file in one private temporary folder.
inline QTemporaryDir &fuzzDir()
{
    static QTemporaryDir dir;
    return dir;
}

inline std::string writeInput(const QString &relativePath, const uint8_t *data, size_t size)
{
    const QString path = fuzzDir().filePath(relativePath);
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile file(path);
    file.open(QIODevice::WriteOnly | QIODevice::Truncate);
    file.write(reinterpret_cast<const char *>(data), qint64(size));
    file.close();
    return path.toStdString();
}
