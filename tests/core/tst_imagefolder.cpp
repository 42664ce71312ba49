#include "dataset.h"
#include "imagedecoding.h"

#include <QImage>
#include <QTemporaryDir>
#include <QtTest>

using namespace paramlock;

namespace {
void writeImage(const QString &path, int w, int h, QColor colour)
{
    QImage image(w, h, QImage::Format_RGB32);
    image.fill(colour);
    QVERIFY(image.save(path));
}
} // namespace

class TestImageFolder : public QObject
{
    Q_OBJECT

private slots:
    void readsClassFolders()
    {
        QTemporaryDir dir;
        QDir root(dir.path());
        QVERIFY(root.mkpath(QStringLiteral("cats")));
        QVERIFY(root.mkpath(QStringLiteral("dogs")));
        writeImage(root.filePath(QStringLiteral("cats/a.png")), 8, 6, QColor(10, 20, 30));
        writeImage(root.filePath(QStringLiteral("dogs/b.jpg")), 16, 12, QColor(250, 250, 250));
        writeImage(root.filePath(QStringLiteral("dogs/c.ppm")), 8, 6, QColor(0, 0, 255));
        QCOMPARE(*detectDatasetFormat(dir.path().toStdString()), std::string("image-folder"));
        auto data = loadDataset(dir.path().toStdString(), Split::Train);
        QVERIFY2(data.ok(), data.ok() ? "" : data.error().c_str());
        QCOMPARE(data->size(), int64_t(3));
        QCOMPARE(data->classCount, 2);
        QCOMPARE(data->classNames, (std::vector<std::string>{"cats", "dogs"}));
        QCOMPARE(data->labels, (std::vector<int32_t>{0, 1, 1}));
        QCOMPARE(data->channels, 3);
        QCOMPARE(data->width, 8); // the first image's size
        QCOMPARE(data->height, 6);
        QCOMPARE(int(data->image(0)[0]), 10);
        QCOMPARE(int(data->image(0)[48]), 20);
        QCOMPARE(int(data->image(2)[2 * 48]), 255);
        QVERIFY(std::abs(int(data->image(1)[0]) - 250) <= 3); // JPEG, resized
    }

    void greyImagesGiveOneChannelAndSplitsAreUsed()
    {
        QTemporaryDir dir;
        QDir root(dir.path());
        for (const char *split : {"train/a", "train/b", "test/a", "test/b"})
            QVERIFY(root.mkpath(QLatin1String(split)));
        writeImage(root.filePath(QStringLiteral("train/a/1.png")), 4, 4, QColor(100, 100, 100));
        writeImage(root.filePath(QStringLiteral("train/b/1.png")), 4, 4, QColor(0, 0, 0));
        writeImage(root.filePath(QStringLiteral("test/b/1.png")), 4, 4, QColor(7, 7, 7));
        auto test = loadDataset(dir.path().toStdString(), Split::Test);
        QVERIFY2(test.ok(), test.ok() ? "" : test.error().c_str());
        QCOMPARE(test->size(), int64_t(1));
        QCOMPARE(test->channels, 1);
        QCOMPARE(test->labels[0], 1);
        QCOMPARE(int(test->image(0)[0]), 7);
    }

    void undecodableImageIsNamed()
    {
        QTemporaryDir dir;
        QDir root(dir.path());
        QVERIFY(root.mkpath(QStringLiteral("a")));
        QFile f(root.filePath(QStringLiteral("a/broken.png")));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("\x89PNG\r\n\x1a\n garbage");
        f.close();
        auto data = loadDataset(dir.path().toStdString(), Split::Train);
        QVERIFY(!data.ok());
        QVERIFY2(QString::fromStdString(data.error()).contains(QLatin1String("broken.png")), data.error().c_str());
    }

    void datasetImageIsTheInverseOfDecoding()
    {
        QImage image(3, 2, QImage::Format_RGB32);
        image.fill(QColor(10, 20, 30));
        image.setPixelColor(2, 1, QColor(200, 100, 50));
        Dataset data;
        data.channels = 3;
        data.width = 3;
        data.height = 2;
        appendImagePixels(image, 3, 3, 2, data.pixels);
        data.labels = {0};
        const QImage back = datasetImage(data, 0);
        QCOMPARE(back.size(), QSize(3, 2));
        QCOMPARE(back.pixelColor(0, 0), QColor(10, 20, 30));
        QCOMPARE(back.pixelColor(2, 1), QColor(200, 100, 50));
    }

    void emptyFolderIsRefused()
    {
        QTemporaryDir dir;
        QVERIFY(QDir(dir.path()).mkpath(QStringLiteral("a")));
        auto data = readImageFolder(dir.path().toStdString());
        QVERIFY(!data.ok());
        QVERIFY(QString::fromStdString(data.error()).contains(QLatin1String("no PNG, JPEG or PPM")));
        QVERIFY(!detectDatasetFormat("/nonexistent/x").ok());
    }
};

QTEST_GUILESS_MAIN(TestImageFolder)
#include "tst_imagefolder.moc"
