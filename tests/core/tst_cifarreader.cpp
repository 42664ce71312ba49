#include "dataset.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace paramlock;

namespace {
// A record: label byte, then 1024 red, 1024 green, 1024 blue bytes.
QByteArray record(quint8 label, quint8 r, quint8 g, quint8 b)
{
    QByteArray rec(1, char(label));
    rec.append(QByteArray(1024, char(r))).append(QByteArray(1024, char(g))).append(QByteArray(1024, char(b)));
    return rec;
}

void write(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(bytes);
}
} // namespace

class TestCifarReader : public QObject
{
    Q_OBJECT

private slots:
    void readsOfficialFolder()
    {
        QTemporaryDir dir;
        QVERIFY(QDir(dir.path()).mkdir(QStringLiteral("cifar-10-batches-bin")));
        const QString folder = dir.filePath(QStringLiteral("cifar-10-batches-bin"));
        write(folder + QStringLiteral("/data_batch_1.bin"), record(3, 10, 20, 30) + record(9, 1, 2, 3));
        write(folder + QStringLiteral("/data_batch_2.bin"), record(0, 200, 100, 50));
        write(folder + QStringLiteral("/test_batch.bin"), record(5, 7, 8, 9));
        write(folder + QStringLiteral("/batches.meta.txt"),
            "airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n");
        QCOMPARE(*detectDatasetFormat(dir.path().toStdString()), std::string("cifar-10"));

        auto train = loadDataset(dir.path().toStdString(), Split::Train);
        QVERIFY2(train.ok(), train.ok() ? "" : train.error().c_str());
        QCOMPARE(train->size(), int64_t(3));
        QCOMPARE(train->labels, (std::vector<int32_t>{3, 9, 0}));
        QCOMPARE(train->channels, 3);
        QCOMPARE(train->height, 32);
        // CHW: channel planes in R, G, B order.
        QCOMPARE(int(train->image(2)[0]), 200);
        QCOMPARE(int(train->image(2)[1024]), 100);
        QCOMPARE(int(train->image(2)[2048 + 1023]), 50);
        QCOMPARE(train->classNames[3], std::string("cat"));
        QCOMPARE(train->normalization.mean.size(), size_t(3));

        auto test = loadDataset(dir.path().toStdString(), Split::Test);
        QVERIFY(test.ok());
        QCOMPARE(test->labels, (std::vector<int32_t>{5}));
    }

    void refusesBadBatches_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("expected");
        QTest::newRow("truncated") << (record(1, 0, 0, 0) + record(2, 0, 0, 0)).left(5000) << "not a multiple";
        QTest::newRow("cifar-100 label") << record(57, 0, 0, 0) << "label 57";
        QTest::newRow("empty") << QByteArray() << "empty";
    }

    void refusesBadBatches()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        write(dir.filePath(QStringLiteral("data_batch_1.bin")), bytes);
        auto data = readCifar10({dir.filePath(QStringLiteral("data_batch_1.bin")).toStdString()});
        QVERIFY(!data.ok());
        QVERIFY2(QString::fromStdString(data.error()).contains(expected), data.error().c_str());
    }

    void missingTestSplitIsReported()
    {
        QTemporaryDir dir;
        write(dir.filePath(QStringLiteral("data_batch_1.bin")), record(1, 0, 0, 0));
        auto data = loadDataset(dir.path().toStdString(), Split::Test);
        QVERIFY(!data.ok());
        QVERIFY(QString::fromStdString(data.error()).contains(QLatin1String("test_batch.bin")));
    }
};

QTEST_GUILESS_MAIN(TestCifarReader)
#include "tst_cifarreader.moc"
