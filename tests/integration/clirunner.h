#pragma once

// Runs paramlock-cli and Debian's PyTorch the way a user's shell would.
#include <QCryptographicHash>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QString>
#include <QStringList>

struct Run
{
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
    QJsonObject json() const { return QJsonDocument::fromJson(out).object(); }
};

inline Run run(const QString &program, const QStringList &args, int timeoutMs = 600000)
{
    QProcess p;
    p.start(program, args);
    Run r;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        r.err = "timed out";
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

inline Run cli(const QStringList &args)
{
    return run(qEnvironmentVariable("PARAMLOCK_CLI"), args);
}

/** tests/integration/pytorch_user.py with Debian's python3-torch. */
inline Run pythonUser(const QStringList &args)
{
    return run(QStringLiteral("/usr/bin/python3"),
        QStringList{qEnvironmentVariable("PARAMLOCK_TESTS") + QStringLiteral("/integration/pytorch_user.py")} + args);
}

/** SHA-256 of a file's bytes (empty when it cannot be read): inputs must come out of a run untouched. */
inline QByteArray digest(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QCryptographicHash::hash(f.readAll(), QCryptographicHash::Sha256);
}

/** Why the CLI tests cannot run here (empty: they can): the CLI binary and Debian's Fashion-MNIST package. */
inline QString cliEnvironmentProblem()
{
    if (!QFileInfo::exists(qEnvironmentVariable("PARAMLOCK_CLI")))
        return QStringLiteral("PARAMLOCK_CLI must name paramlock-cli");
    if (!QFileInfo::exists(QStringLiteral("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")))
        return QStringLiteral("install the Debian package dataset-fashion-mnist");
    return {};
}
