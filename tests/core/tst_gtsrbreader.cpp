#include "dataset.h"

#include <QImage>
#include <QTemporaryDir>
#include <QtTest>

using namespace paramlock;

namespace {

// A 20x20 image, blue everywhere but a solid `inner` square at [5, 14].
void writePpm(const QString &path, QColor inner)
{
    QImage image(20, 20, QImage::Format_RGB32);
    image.fill(Qt::blue);
    for (int y = 5; y <= 14; ++y)
        for (int x = 5; x <= 14; ++x)
            image.setPixelColor(x, y, inner);
    QVERIFY(image.save(path, "PPM"));
}

void writeText(const QString &path, const QString &text)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Text));
    f.write(text.toUtf8());
}

const QString kHeader = QStringLiteral("Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId\n");

// The official layout: Final_Training/Images/000NN/*.ppm with GT-000NN.csv, Final_Test/Images with GT-final_test.csv.
void makeGtsrb(const QString &root)
{
    QDir dir(root);
    for (int c : {0, 14}) {
        const QString cls = QStringLiteral("%1").arg(c, 5, 10, QLatin1Char('0'));
        const QString folder = QStringLiteral("Final_Training/Images/") + cls;
        QVERIFY(dir.mkpath(folder));
        QString csv = kHeader;
        for (int i = 0; i < 2; ++i) {
            const QString name = QStringLiteral("%1_0000%2.ppm").arg(cls).arg(i);
            writePpm(dir.filePath(folder + QLatin1Char('/') + name), c == 0 ? Qt::red : Qt::green);
            csv += QStringLiteral("%1;20;20;5;5;14;14;%2\n").arg(name).arg(c);
        }
        writeText(dir.filePath(folder + QStringLiteral("/GT-") + cls + QStringLiteral(".csv")), csv);
    }
    QVERIFY(dir.mkpath(QStringLiteral("Final_Test/Images")));
    writePpm(dir.filePath(QStringLiteral("Final_Test/Images/00000.ppm")), Qt::white);
    writeText(dir.filePath(QStringLiteral("Final_Test/Images/GT-final_test.csv")),
        kHeader + QStringLiteral("00000.ppm;20;20;5;5;14;14;42\n"));
}

} // namespace

class TestGtsrbReader : public QObject
{
    Q_OBJECT

private slots:
    void columnsAreFoundByName()
    {
        // Found by the fuzzer: ROI columns in another order once read past the end of a row.
        QTemporaryDir dir;
        makeGtsrb(dir.path());
        writeText(dir.filePath(QStringLiteral("Final_Test/Images/GT-final_test.csv")),
            QStringLiteral("ClassId;Roi.Y2;Roi.X2;Roi.Y1;Roi.X1;Filename\n7;14;14;5;5;00000.ppm\n"));
        auto data = loadDataset(dir.path().toStdString(), Split::Test);
        QVERIFY2(data.ok(), data.ok() ? "" : data.error().c_str());
        QCOMPARE(data->labels, std::vector<int32_t>{7});
        // The ROI is the white square (the border is blue): the crop's red channel is full.
        QCOMPARE(int(data->image(0)[0]), 255);
    }

    void readsTrainingSplitWithRoiCrop()
    {
        QTemporaryDir dir;
        makeGtsrb(dir.path());
        QCOMPARE(*detectDatasetFormat(dir.path().toStdString()), std::string("gtsrb"));
        auto data = loadDataset(dir.path().toStdString(), Split::Train);
        QVERIFY2(data.ok(), data.ok() ? "" : data.error().c_str());
        QCOMPARE(data->size(), int64_t(4));
        QCOMPARE(data->classCount, 43);
        QCOMPARE(data->labels, (std::vector<int32_t>{0, 0, 14, 14}));
        QCOMPARE(data->width, 32);
        QCOMPARE(data->classNames[14], std::string("Stop"));
        // The ROI crop removes the blue border: a red sign is red in every corner.
        const uint8_t *red = data->image(0);
        const int plane = 32 * 32;
        QCOMPARE(int(red[0]), 255);
        QCOMPARE(int(red[2 * plane + plane - 1]), 0);
        const uint8_t *green = data->image(3);
        QCOMPARE(int(green[plane + 31]), 255);
        QCOMPARE(int(green[0]), 0);
    }

    void readsTestSplit()
    {
        QTemporaryDir dir;
        makeGtsrb(dir.path());
        DatasetOptions options;
        options.width = 16;
        auto data = loadDataset(dir.path().toStdString(), Split::Test, options);
        QVERIFY2(data.ok(), data.ok() ? "" : data.error().c_str());
        QCOMPARE(data->labels, (std::vector<int32_t>{42}));
        QCOMPARE(data->height, 16);
        QCOMPARE(int(data->image(0)[5]), 255);
    }

    void refusesBrokenLayouts_data()
    {
        QTest::addColumn<QString>("breakage");
        QTest::addColumn<QString>("expected");
        QTest::newRow("unlabelled test csv") << "test-no-classid"
                                             << "no ClassId column";
        QTest::newRow("missing test csv") << "test-no-csv"
                                          << "GT-final_test.csv";
        QTest::newRow("corrupt image") << "corrupt-ppm"
                                       << "cannot decode GTSRB image";
        QTest::newRow("bad class id") << "bad-class"
                                      << "outside 0-42";
        QTest::newRow("short row") << "short-row"
                                   << "expected 8 fields";
    }

    void refusesBrokenLayouts()
    {
        QFETCH(QString, breakage);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        makeGtsrb(dir.path());
        const QDir root(dir.path());
        Split split = Split::Test;
        const QString testCsv = root.filePath(QStringLiteral("Final_Test/Images/GT-final_test.csv"));
        const QString trainCsv = root.filePath(QStringLiteral("Final_Training/Images/00000/GT-00000.csv"));
        if (breakage == QLatin1String("test-no-classid")) {
            writeText(testCsv,
                QStringLiteral("Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2\n00000.ppm;20;20;5;5;14;14\n"));
        } else if (breakage == QLatin1String("test-no-csv")) {
            QVERIFY(QFile::remove(testCsv));
        } else if (breakage == QLatin1String("corrupt-ppm")) {
            writeText(
                root.filePath(QStringLiteral("Final_Test/Images/00000.ppm")), QStringLiteral("P6\n20 20\n255\nshort"));
        } else if (breakage == QLatin1String("bad-class")) {
            split = Split::Train;
            writeText(trainCsv, kHeader + QStringLiteral("00000_00000.ppm;20;20;5;5;14;14;43\n"));
        } else {
            split = Split::Train;
            writeText(trainCsv, kHeader + QStringLiteral("00000_00000.ppm;20;20;5\n"));
        }
        auto data = loadDataset(dir.path().toStdString(), split);
        QVERIFY(!data.ok());
        QVERIFY2(QString::fromStdString(data.error()).contains(expected), data.error().c_str());
    }
};

QTEST_GUILESS_MAIN(TestGtsrbReader)
#include "tst_gtsrbreader.moc"
