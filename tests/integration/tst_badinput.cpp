// The bad-input matrix: every way a user can hand ParamLock a wrong file, through the CLI.
// Each case must fail with a specific message and a non-zero exit, leave every input byte-identical and write nothing.
#include "clirunner.h"
#include "advparams.h"
#include "secretkey.h"

#include <QDirIterator>
#include <QtTest>

#include <csignal>
#include <unistd.h>

#include <nlohmann/json.hpp>

using namespace paramlock;

namespace {

void writeFile(const QString &path, const QByteArray &bytes)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    QVERIFY2(f.open(QIODevice::WriteOnly), qPrintable(path));
    f.write(bytes);
}

QByteArray readFile(const QString &path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

QByteArray bigEndian(const QList<quint32> &values)
{
    QByteArray out;
    for (quint32 v : values)
        for (int shift = 24; shift >= 0; shift -= 8)
            out.append(char((v >> shift) & 0xff));
    return out;
}

/** SHA-256 of every file under a folder: the "byte-identical" check. */
QMap<QString, QByteArray> snapshot(const QString &root)
{
    QMap<QString, QByteArray> digests;
    QDirIterator it(root, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        digests.insert(path, QCryptographicHash::hash(readFile(path), QCryptographicHash::Sha256));
    }
    return digests;
}

QStringList filesUnder(const QString &root)
{
    QStringList files;
    QDirIterator it(root, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext())
        files << it.next();
    return files;
}

} // namespace

class TestBadInput : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    QString in(const QString &name) const { return m_dir.filePath(QStringLiteral("in/") + name); }
    QString out(const QString &name) const { return m_dir.filePath(QStringLiteral("out/") + name); }

    QStringList expand(QStringList args) const
    {
        for (QString &a : args) {
            a.replace(QLatin1String("{in}"), m_dir.filePath(QStringLiteral("in")));
            a.replace(QLatin1String("{out}"), m_dir.filePath(QStringLiteral("out")));
        }
        return args;
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        QVERIFY(QDir().mkpath(in({})) && QDir().mkpath(out({})));
        const QString shipped =
            qEnvironmentVariable("PARAMLOCK_RESOURCES") + QStringLiteral("/models/lenet5-fmnist.pt");
        QVERIFY(QFile::copy(shipped, in(QStringLiteral("lenet.pt"))));
        const QByteArray lenet = readFile(in(QStringLiteral("lenet.pt")));
        writeFile(in(QStringLiteral("corrupt.pt")), QByteArray("PK\x03\x04 this is not a model at all").repeated(50));
        writeFile(in(QStringLiteral("truncated.pt")), lenet.left(lenet.size() / 2));
        QCOMPARE(pythonUser({QStringLiteral("export"), in(QStringLiteral("user.pt"))}).exitCode, 0);
        for (const char *kind : {"nan", "no-layers", "state-dict", "fixed-batch", "untrained", "rgb"})
            QCOMPARE(pythonUser({QStringLiteral("export-broken"), QLatin1String(kind),
                                    in(QLatin1String(kind) + QStringLiteral(".pt"))})
                         .exitCode,
                0);

        // A real lock, its plain key, and a password-protected key issued from it.
        writeFile(in(QStringLiteral("pw.txt")), "right password\n");
        writeFile(in(QStringLiteral("wrong.txt")), "wrong password\n");
        Run r = cli({QStringLiteral("lock"), QStringLiteral("-m"), in(QStringLiteral("lenet.pt")), QStringLiteral("-d"),
            QStringLiteral("fashion-mnist"), QStringLiteral("--max-weights"), QStringLiteral("8"),
            QStringLiteral("--allow-weak"), QStringLiteral("--eval-samples"), QStringLiteral("200"),
            QStringLiteral("--out-model"), in(QStringLiteral("locked.pt")), QStringLiteral("--out-key"),
            in(QStringLiteral("plain.key")), QStringLiteral("-q")});
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QVERIFY2(r.err.contains("written without a password"), r.err.constData());
        r = cli({QStringLiteral("key"), QStringLiteral("issue"), QStringLiteral("--key"),
            in(QStringLiteral("plain.key")), QStringLiteral("--recipient"), QStringLiteral("alice"),
            QStringLiteral("--recipient-password-file"), in(QStringLiteral("pw.txt")), QStringLiteral("--kdf"),
            QStringLiteral("interactive"), QStringLiteral("--out"), in(QStringLiteral("sealed.key"))});
        QVERIFY2(r.exitCode == 0, r.err.constData());

        // Keys edited with a valid checksum (as a careless tool would write them) and without one.
        auto key = SecretKey::load(in(QStringLiteral("plain.key")).toStdString());
        QVERIFY(key.ok());
        auto edited = [&](auto edit) {
            SecretKey k = *key;
            AdvParamsKey secret = *AdvParamsKey::of(k);
            edit(secret);
            k.payload = secret.toPayload();
            return k;
        };
        const SecretKey badIndex = edited([](AdvParamsKey &k) { k.entries[0].index = 1000000000; });
        QVERIFY(badIndex.save(in(QStringLiteral("badindex.key")).toStdString()).ok());
        const SecretKey badLayer = edited([](AdvParamsKey &k) { k.entries[0].layer = "features.99.weight"; });
        QVERIFY(badLayer.save(in(QStringLiteral("badlayer.key")).toStdString()).ok());
        QByteArray tampered = readFile(in(QStringLiteral("plain.key")));
        const int at = int(tampered.indexOf("\"perturbation\": ")) + 17;
        tampered[at] = tampered[at] == '1' ? '2' : '1';
        writeFile(in(QStringLiteral("tampered.key")), tampered);
        auto sealed = nlohmann::json::parse(readFile(in(QStringLiteral("sealed.key"))).toStdString());
        std::string cipher = sealed["ciphertext"];
        cipher[20] = cipher[20] == 'A' ? 'B' : 'A';
        sealed["ciphertext"] = cipher;
        nlohmann::json copy = sealed;
        copy.erase("file_sha256");
        sealed["file_sha256"] =
            QCryptographicHash::hash(QByteArray::fromStdString(copy.dump()), QCryptographicHash::Sha256)
                .toHex()
                .toStdString();
        writeFile(in(QStringLiteral("tampered-sealed.key")), QByteArray::fromStdString(sealed.dump(1)));

        // Datasets in the official formats, broken in the ways files break.
        const QByteArray idxImages = bigEndian({0x803, 20, 28, 28}) + QByteArray(20 * 28 * 28, '\x40');
        const QByteArray idxLabels = bigEndian({0x801, 20}) + QByteArray(20, '\x03');
        for (const char *split : {"train", "t10k"}) {
            const QString s = QLatin1String(split);
            writeFile(in(QStringLiteral("idx-truncated/") + s + QStringLiteral("-images-idx3-ubyte")),
                idxImages.left(idxImages.size() - 100));
            writeFile(in(QStringLiteral("idx-truncated/") + s + QStringLiteral("-labels-idx1-ubyte")), idxLabels);
            writeFile(in(QStringLiteral("idx-garbled/") + s + QStringLiteral("-images-idx3-ubyte")),
                QByteArray("\x00\x01\x08\x03", 4) + idxImages.mid(4));
            writeFile(in(QStringLiteral("idx-garbled/") + s + QStringLiteral("-labels-idx1-ubyte")), idxLabels);
            // gzip magic, then garbage: what a damaged download looks like.
            writeFile(in(QStringLiteral("idx-badgzip/") + s + QStringLiteral("-images-idx3-ubyte.gz")),
                QByteArray("\x1f\x8b\x08\x00", 4) + idxImages.mid(4, 400));
            writeFile(in(QStringLiteral("idx-badgzip/") + s + QStringLiteral("-labels-idx1-ubyte")), idxLabels);
        }
        writeFile(in(QStringLiteral("cifar/cifar-10-batches-bin/data_batch_1.bin")), QByteArray(3073 * 2 - 7, '\x01'));
        writeFile(in(QStringLiteral("cifar/cifar-10-batches-bin/test_batch.bin")), QByteArray(3073, '\x01'));
        writeFile(in(QStringLiteral("gtsrb/Final_Training/Images/00000/GT-00000.csv")),
            "Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\n00000_00000.ppm;30;30;5;five;25;25;0\n");
        writeFile(in(QStringLiteral("gtsrb/Final_Training/Images/00000/00000_00000.ppm")), "P6\n1 1\n255\nabc");
        writeFile(in(QStringLiteral("images/train/cat/ok.pgm")), QByteArray("P5\n2 2\n255\n") + QByteArray(4, '\x10'));
        writeFile(in(QStringLiteral("images/train/dog/broken.png")), "\x89PNG\r\n\x1a\n but then nothing");
        writeFile(in(QStringLiteral("images/test/cat/ok.pgm")), QByteArray("P5\n2 2\n255\n") + QByteArray(4, '\x10'));
    }

    void refusesClearly_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("message");
        const QString lockOut = QStringLiteral("--out-model={out}/l.pt --out-key={out}/l.key -q --eval-samples=100");
        auto lock = [&](const QString &model, const QString &data, const QString &extra = {}) {
            return (QStringLiteral("lock -m {in}/%1 -d %2 %3 ").arg(model, data, extra) + lockOut)
                .split(QLatin1Char(' '), Qt::SkipEmptyParts);
        };
        auto split = [](const QString &s) { return s.split(QLatin1Char(' '), Qt::SkipEmptyParts); };
        const QString fm = QStringLiteral("fashion-mnist");

        QTest::newRow("corrupt model") << lock(QStringLiteral("corrupt.pt"), fm) << 1
                                       << QStringLiteral("is not a TorchScript model");
        QTest::newRow("truncated model") << split(QStringLiteral("info -m {in}/truncated.pt")) << 1
                                         << QStringLiteral("is not a TorchScript model");
        QTest::newRow("torch.save checkpoint")
            << split(QStringLiteral("info -m {in}/state-dict.pt")) << 1 << QStringLiteral("saved with torch.save");
        QTest::newRow("NaN/Inf weights") << lock(QStringLiteral("nan.pt"), fm) << 1
                                         << QStringLiteral("contains NaN or infinite values");
        QTest::newRow("key for another model")
            << split(QStringLiteral("unlock -m {in}/user.pt -k {in}/plain.key -o {out}/u.pt")) << 1
            << QStringLiteral("made for a different model");
        QTest::newRow("key index out of range")
            << split(QStringLiteral("unlock -m {in}/locked.pt -k {in}/badindex.key -o {out}/u.pt")) << 1
            << QStringLiteral("index 1000000000 is outside");
        QTest::newRow("key names a missing layer")
            << split(QStringLiteral("unlock -m {in}/locked.pt -k {in}/badlayer.key -o {out}/u.pt")) << 1
            << QStringLiteral("names the layer features.99.weight");
        QTest::newRow("tampered plain key")
            << split(QStringLiteral("unlock -m {in}/locked.pt -k {in}/tampered.key -o {out}/u.pt")) << 1
            << QStringLiteral("modified or is corrupt");
        QTest::newRow("wrong password") << split(
            QStringLiteral("unlock -m {in}/locked.pt -k {in}/sealed.key --password-file {in}/wrong.txt -o {out}/u.pt"))
                                        << 1 << QStringLiteral("wrong password");
        QTest::newRow("tampered sealed key") << split(QStringLiteral(
            "unlock -m {in}/locked.pt -k {in}/tampered-sealed.key --password-file {in}/pw.txt -o {out}/u.pt"))
                                             << 1 << QStringLiteral("tampered with");
        QTest::newRow("sealed key, no password, no terminal")
            << split(QStringLiteral("run -m {in}/locked.pt -k {in}/sealed.key {in}/images/test/cat/ok.pgm")) << 1
            << QStringLiteral("password-protected; give --password-file");
        QTest::newRow("truncated IDX") << lock(QStringLiteral("lenet.pt"), QStringLiteral("{in}/idx-truncated")) << 1
                                       << QStringLiteral("IDX data is truncated");
        QTest::newRow("garbled IDX") << lock(QStringLiteral("lenet.pt"), QStringLiteral("{in}/idx-garbled")) << 1
                                     << QStringLiteral("bad magic number");
        QTest::newRow("damaged gzip IDX") << lock(QStringLiteral("lenet.pt"), QStringLiteral("{in}/idx-badgzip")) << 1
                                          << QStringLiteral("corrupt compressed data");
        QTest::newRow("truncated CIFAR-10") << lock(QStringLiteral("lenet.pt"), QStringLiteral("{in}/cifar")) << 1
                                            << QStringLiteral("not a CIFAR-10 binary batch or truncated");
        QTest::newRow("garbled GTSRB annotations") << lock(QStringLiteral("lenet.pt"), QStringLiteral("{in}/gtsrb"))
                                                   << 1 << QStringLiteral("a number field is not a number");
        QTest::newRow("undecodable image") << lock(QStringLiteral("lenet.pt"), QStringLiteral("{in}/images")) << 1
                                           << QStringLiteral("cannot decode image");
        QTest::newRow("empty layer selection") << lock(QStringLiteral("lenet.pt"), fm, QStringLiteral("--layers=,"))
                                               << 2 << QStringLiteral("--layers is empty");
        QTest::newRow("layer set without conv/FC")
            << lock(QStringLiteral("lenet.pt"), fm, QStringLiteral("--layers=fc3.bias")) << 1
            << QStringLiteral("no conv/FC layer named \"fc3.bias\"");
        QTest::newRow("model without conv/FC") << lock(QStringLiteral("no-layers.pt"), fm) << 1
                                               << QStringLiteral("no convolution or fully-connected layer");
        QTest::newRow("traced with a frozen batch size") << lock(QStringLiteral("fixed-batch.pt"),
            fm) << 1 << QStringLiteral("runs on one image but fails on a batch of 2 1x28x28 images");
        QTest::newRow("3-channel model on grey data") << lock(QStringLiteral("rgb.pt"),
            fm) << 1 << QStringLiteral("may expect another number of channels or another image size");
        QTest::newRow("untrained model") << lock(QStringLiteral("untrained.pt"), fm) << 1
                                         << QStringLiteral("no better than random guess");
        QTest::newRow("weak lock") << lock(QStringLiteral("lenet.pt"), fm, QStringLiteral("--max-weights=2")) << 1
                                   << QStringLiteral("weak lock");
        QTest::newRow("output = input model")
            << split(QStringLiteral("lock -m {in}/lenet.pt -d fashion-mnist --out-model {in}/lenet.pt --out-key "
                                    "{out}/k.key"))
            << 2 << QStringLiteral("refusing to overwrite the input model");
        QTest::newRow("output = input key")
            << split(QStringLiteral("unlock -m {in}/locked.pt -k {in}/plain.key -o {in}/plain.key")) << 2
            << QStringLiteral("refusing to overwrite the input file");
        QTest::newRow("missing output folder")
            << split(QStringLiteral("unlock -m {in}/locked.pt -k {in}/plain.key -o {out}/no/such/dir/u.pt")) << 1
            << QStringLiteral("output folder does not exist");
        // Root ignores permission bits; sysfs refuses new files even to root.
        const QString unwritable = geteuid() == 0 ? QStringLiteral("/sys") : QStringLiteral("/proc/self");
        QTest::newRow("unwritable output folder")
            << split(QStringLiteral("unlock -m {in}/locked.pt -k {in}/plain.key -o %1/u.pt").arg(unwritable)) << 1
            << QStringLiteral("cannot write");
        QTest::newRow("full disk (file-size limit)")
            << split(QStringLiteral("ulimit:64 unlock -m {in}/locked.pt -k {in}/plain.key -o {out}/u.pt")) << 1
            << QStringLiteral("file-size limit");
        QTest::newRow("full disk while locking: key removed again")
            << split(QStringLiteral("ulimit:64 lock -m {in}/lenet.pt -d fashion-mnist --max-weights 4 --allow-weak "
                                    "--eval-samples 100 -q --out-model {out}/l.pt --out-key {out}/l.key"))
            << 1 << QStringLiteral("file-size limit");
    }

    void refusesClearly()
    {
        QFETCH(QStringList, args);
        QFETCH(int, exitCode);
        QFETCH(QString, message);
        const auto before = snapshot(in({}));
        args = expand(args);
        Run r;
        if (args.first().startsWith(QLatin1String("ulimit:"))) {
            // A small file-size limit stands in for a full disk: writes fail with EFBIG.
            const QString limit = args.takeFirst().mid(7);
            QStringList quoted;
            for (const QString &a : args)
                quoted << QLatin1Char('\'') + a + QLatin1Char('\'');
            r = run(QStringLiteral("/bin/bash"),
                {QStringLiteral("-c"),
                    QStringLiteral("ulimit -f %1; exec \"$PARAMLOCK_CLI\" %2")
                        .arg(limit, quoted.join(QLatin1Char(' ')))});
        } else {
            r = cli(args);
        }
        QVERIFY2(r.exitCode == exitCode,
            qPrintable(QStringLiteral("exit %1, stderr: %2").arg(r.exitCode).arg(QString::fromUtf8(r.err))));
        QVERIFY2(r.err.contains(message.toUtf8()), r.err.constData());
        QVERIFY2(r.err.startsWith("error: ") || r.err.contains("\nerror: "), r.err.constData());
        QCOMPARE(snapshot(in({})), before);
        QCOMPARE(filesUnder(out({})), QStringList());
    }

    void cancelAtEveryStageLeavesNothing_data()
    {
        // The CLI names each stage on stderr ("[3%] evaluating"); Ctrl-C is sent when the stage begins.
        QTest::addColumn<QString>("stage");
        QTest::newRow("reading the data") << QStringLiteral("reading the training split");
        QTest::newRow("evaluating the original") << QStringLiteral("evaluating");
        QTest::newRow("locking") << QStringLiteral("encrypting");
    }

    void cancelAtEveryStageLeavesNothing()
    {
        QFETCH(QString, stage);
        const auto before = snapshot(in({}));
        QProcess p;
        p.setReadChannel(QProcess::StandardError);
        p.start(qEnvironmentVariable("PARAMLOCK_CLI"),
            {QStringLiteral("lock"), QStringLiteral("-m"), in(QStringLiteral("lenet.pt")), QStringLiteral("-d"),
                QStringLiteral("fashion-mnist"), QStringLiteral("--mode"), QStringLiteral("paper"),
                QStringLiteral("--out-model"), out(QStringLiteral("c.pt")), QStringLiteral("--out-key"),
                out(QStringLiteral("c.key"))});
        QVERIFY(p.waitForStarted());
        QByteArray err;
        while (!err.contains(stage.toUtf8()) && p.state() == QProcess::Running)
            if (p.waitForReadyRead(100))
                err += p.readAllStandardError();
        QVERIFY2(p.state() == QProcess::Running, err.constData());
        ::kill(pid_t(p.processId()), SIGINT);
        QVERIFY(p.waitForFinished(120000));
        err += p.readAllStandardError();
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QCOMPARE(p.exitCode(), 130);
        QVERIFY2(err.contains("nothing was written"), err.constData());
        QCOMPARE(filesUnder(out({})), QStringList());
        QCOMPARE(snapshot(in({})), before);
    }
};

QTEST_GUILESS_MAIN(TestBadInput)
#include "tst_badinput.moc"
