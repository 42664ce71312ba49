#include "atomicfile.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>

#include <cerrno>
#include <cstring>

namespace paramlock {

namespace {
/** The reason a write failed, in words a user can act on (Qt says "Unknown error" for a full disk). */
std::string writeError(const QFileDevice &file, int savedErrno)
{
    if (savedErrno == ENOSPC)
        return "the disk is full";
    if (savedErrno == EFBIG)
        return "the file is larger than this process may write (file-size limit)";
    if (savedErrno == EDQUOT)
        return "the disk quota is exhausted";
    const QString why = file.errorString();
    if (savedErrno != 0 && (why.isEmpty() || why == QLatin1String("Unknown error")))
        return std::strerror(savedErrno);
    return why.toStdString();
}

QString canonicalOrAbsolute(const std::string &path)
{
    const QFileInfo info(QString::fromStdString(path));
    const QString canonical = info.canonicalFilePath();
    if (!canonical.isEmpty())
        return canonical;
    // Not there yet: resolve the folder, keep the name.
    const QString dir = QFileInfo(info.absolutePath()).canonicalFilePath();
    return (dir.isEmpty() ? info.absolutePath() : dir) + QLatin1Char('/') + info.fileName();
}
} // namespace

bool samePath(const std::string &a, const std::string &b)
{
    return canonicalOrAbsolute(a) == canonicalOrAbsolute(b);
}

Expected<void> writeFileAtomically(
    const std::string &path, const std::string &bytes, const std::vector<std::string> &protectedPaths)
{
    if (path.empty())
        return Error{"no output file given"};
    for (const std::string &input : protectedPaths)
        if (!input.empty() && samePath(path, input))
            return Error{"refusing to overwrite the input file " + input + "; choose another output path"};
    const QString qpath = QString::fromStdString(path);
    const QFileInfo info(qpath);
    if (!QFileInfo(info.absolutePath()).isDir())
        return Error{"output folder does not exist: " + info.absolutePath().toStdString()};
    if (info.isDir())
        return Error{path + " is a folder; give a file name"};
    QSaveFile file(qpath);
    errno = 0;
    if (!file.open(QIODevice::WriteOnly))
        return Error{"cannot write " + path + ": " + writeError(file, errno)};
    if (file.write(bytes.data(), qint64(bytes.size())) != qint64(bytes.size())) {
        const std::string why = writeError(file, errno);
        file.cancelWriting();
        return Error{"cannot write " + path + ": " + why + "; nothing was written"};
    }
    if (!file.commit())
        return Error{"cannot write " + path + ": " + writeError(file, errno) + "; nothing was written"};
    return {};
}

Expected<std::string> readWholeFile(const std::string &path)
{
    QFile file(QString::fromStdString(path));
    if (!file.exists())
        return Error{"file not found: " + path};
    if (!file.open(QIODevice::ReadOnly))
        return Error{"cannot read " + path + ": " + file.errorString().toStdString()};
    const QByteArray bytes = file.readAll();
    return std::string(bytes.constData(), size_t(bytes.size()));
}

std::string sha256Hex(const std::string &bytes)
{
    return QCryptographicHash::hash(QByteArrayView(bytes.data(), qsizetype(bytes.size())), QCryptographicHash::Sha256)
        .toHex()
        .toStdString();
}

} // namespace paramlock
