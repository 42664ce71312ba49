#include "dataset.h"

#include <QTemporaryDir>
#include <QtTest>

#include <zlib.h>

using namespace paramlock;

namespace {

QByteArray idxHeader(quint8 dims, const QList<quint32> &sizes, quint8 type = 0x08)
{
    QByteArray h;
    h.append(char(0)).append(char(0)).append(char(type)).append(char(dims));
    for (quint32 s : sizes)
        for (int shift = 24; shift >= 0; shift -= 8)
            h.append(char((s >> shift) & 0xff));
    return h;
}

void writeRaw(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(bytes);
}

void writeGz(const QString &path, const QByteArray &bytes)
{
    gzFile f = gzopen(path.toLocal8Bit().constData(), "wb");
    QVERIFY(f);
    QCOMPARE(gzwrite(f, bytes.constData(), unsigned(bytes.size())), int(bytes.size()));
    gzclose(f);
}

// Three 2x3 images with pixels i*10 + j and labels 7, 0, 9.
QByteArray images()
{
    QByteArray b = idxHeader(3, {3, 2, 3});
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 6; ++j)
            b.append(char(i * 10 + j));
    return b;
}

QByteArray labels()
{
    QByteArray b = idxHeader(1, {3});
    b.append(char(7)).append(char(0)).append(char(9));
    return b;
}

} // namespace

class TestIdxReader : public QObject
{
    Q_OBJECT

private slots:
    void readsRawAndGzip_data()
    {
        QTest::addColumn<bool>("compressed");
        QTest::newRow("raw") << false;
        QTest::newRow("gz") << true;
    }

    void readsRawAndGzip()
    {
        QFETCH(bool, compressed);
        QTemporaryDir dir;
        const QString suffix = compressed ? QStringLiteral(".gz") : QString();
        const QString img = dir.filePath(QStringLiteral("train-images-idx3-ubyte") + suffix);
        const QString lab = dir.filePath(QStringLiteral("train-labels-idx1-ubyte") + suffix);
        if (compressed) {
            writeGz(img, images());
            writeGz(lab, labels());
        } else {
            writeRaw(img, images());
            writeRaw(lab, labels());
        }
        auto data = loadDataset(dir.path().toStdString(), Split::Train);
        QVERIFY2(data.ok(), data.ok() ? "" : data.error().c_str());
        QCOMPARE(data->size(), int64_t(3));
        QCOMPARE(data->channels, 1);
        QCOMPARE(data->height, 2);
        QCOMPARE(data->width, 3);
        QCOMPARE(data->classCount, 10);
        QCOMPARE(data->labels, (std::vector<int32_t>{7, 0, 9}));
        QCOMPARE(int(data->image(2)[4]), 24);
        QCOMPARE(data->name, std::string("mnist"));
        QCOMPARE(*detectDatasetFormat(dir.path().toStdString()), std::string("idx"));
    }

    void refusesBadFiles_data()
    {
        QTest::addColumn<QByteArray>("imageBytes");
        QTest::addColumn<QByteArray>("labelBytes");
        QTest::addColumn<bool>("gzipTruncated");
        QTest::addColumn<QString>("expected");
        QByteArray wrongMagic = images();
        wrongMagic[0] = char(0x1f);
        QByteArray wrongType = images();
        wrongType[2] = char(0x0d);
        QTest::newRow("wrong magic") << wrongMagic << labels() << false << "bad magic";
        QTest::newRow("float elements") << wrongType << labels() << false << "not unsigned bytes";
        QTest::newRow("labels as images") << labels() << labels() << false << "1 dimensions, expected 3";
        QTest::newRow("truncated data") << images().left(images().size() - 2) << labels() << false
                                        << "truncated (16 of 18";
        QTest::newRow("truncated header") << images().left(9) << labels() << false << "header is truncated";
        QTest::newRow("extra bytes") << images() + "xx" << labels() << false << "2 bytes more";
        QTest::newRow("count mismatch") << images() << idxHeader(1, {2}) + "ab" << false << "3 images but 2 labels";
        QTest::newRow("empty") << QByteArray() << labels() << false << "shorter than its 4-byte magic";
        QTest::newRow("truncated gzip") << images() << labels() << true << "truncated";
    }

    void refusesBadFiles()
    {
        QFETCH(QByteArray, imageBytes);
        QFETCH(QByteArray, labelBytes);
        QFETCH(bool, gzipTruncated);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        const QString img = dir.filePath(QStringLiteral("images"));
        const QString lab = dir.filePath(QStringLiteral("labels"));
        if (gzipTruncated) {
            const QString full = dir.filePath(QStringLiteral("full.gz"));
            writeGz(full, imageBytes + QByteArray(4000, 'x'));
            QFile f(full);
            QVERIFY(f.open(QIODevice::ReadOnly));
            writeRaw(img, f.readAll().left(30));
        } else {
            writeRaw(img, imageBytes);
        }
        writeRaw(lab, labelBytes);
        auto data = readIdx(img.toStdString(), lab.toStdString());
        QVERIFY(!data.ok());
        QVERIFY2(QString::fromStdString(data.error()).contains(expected), data.error().c_str());
    }

    void missingFileIsNamed()
    {
        auto data = readIdx("/nonexistent/images", "/nonexistent/labels");
        QVERIFY(!data.ok());
        QVERIFY(QString::fromStdString(data.error()).contains(QLatin1String("not found: /nonexistent/images")));
    }
};

QTEST_GUILESS_MAIN(TestIdxReader)
#include "tst_idxreader.moc"
