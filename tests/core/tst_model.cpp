#include "atomicfile.h"
#include "model.h"
#include "testmodels.h"
#include "training.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace paramlock;
using namespace paramlock::testing;

class TestModel : public QObject
{
    Q_OBJECT

private slots:
    void zooMatchesThePaper_data()
    {
        QTest::addColumn<QString>("arch");
        QTest::addColumn<int>("channels");
        QTest::addColumn<int>("side");
        QTest::addColumn<int>("classes");
        QTest::addColumn<int>("layers");
        QTest::addColumn<qint64>("params");
        // LeNet-5: 156 + 2416 + 48120 + 10164 + 850.
        QTest::newRow("lenet5") << "lenet5" << 1 << 28 << 10 << 5 << qint64(61706);
        // The paper: 46 conv/FC layers, 329,677 parameters (ours: DenseNet-BC, growth 15).
        QTest::newRow("densenet") << "densenet-fmnist" << 1 << 28 << 10 << 46 << qint64(337655);
        // The paper: 58 conv/FC layers, 850,864 parameters (ours: ResNet-56 with projection shortcuts).
        QTest::newRow("resnet56") << "resnet56" << 3 << 32 << 10 << 58 << qint64(855770);
        // The paper: 8 conv/FC layers, 23,398,080 parameters.
        QTest::newRow("alexnet") << "alexnet-gtsrb" << 3 << 32 << 43 << 8 << qint64(23272299);
    }

    void zooMatchesThePaper()
    {
        QFETCH(QString, arch);
        QFETCH(int, channels);
        QFETCH(int, side);
        QFETCH(int, classes);
        QFETCH(int, layers);
        QFETCH(qint64, params);
        auto model = Model::create(arch.toStdString(), imageMeta(channels, side, classes), 1);
        QVERIFY2(model.ok(), model.ok() ? "" : model.error().c_str());
        QCOMPARE(int(model->layers().size()), layers);
        QCOMPARE(qint64(model->parameterCount()), params);
        const Dataset data = randomImages(2, channels, side, classes, 3);
        auto eval = evaluate(*model, data);
        QVERIFY2(eval.ok(), eval.ok() ? "" : eval.error().c_str());
        QCOMPARE(eval->total, int64_t(2));
    }

    void layerStatisticsAreComputed()
    {
        auto model = Model::create("linear", linearMeta(2, 2), 0);
        QVERIFY(model.ok());
        QVERIFY(model->setWeights("fc.weight", {1.0f, -3.0f, 2.0f, 0.0f}).ok());
        const auto layers = model->layers();
        QCOMPARE(layers.size(), size_t(1));
        QCOMPARE(layers[0].name, std::string("fc.weight"));
        QCOMPARE(layers[0].kind, std::string("linear"));
        QCOMPARE(layers[0].shape, (std::vector<int64_t>{2, 2}));
        QCOMPARE(layers[0].min, -3.0f);
        QCOMPARE(layers[0].max, 2.0f);
        QCOMPARE(layers[0].mean, 0.0);
        QVERIFY(qAbs(layers[0].std - std::sqrt(14.0 / 3.0)) < 1e-9);
        QVERIFY(!model->setWeights("fc.weight", {1.0f}).ok());
        QVERIFY(!model->weights("nope").ok());
    }

    void saveLoadRoundTrip()
    {
        QTemporaryDir dir;
        ModelMetadata meta = imageMeta(1, 28, 10);
        meta.normalization = {{0.5f}, {0.25f}};
        meta.classNames = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
        auto model = Model::create("lenet5", meta, 5);
        QVERIFY(model.ok());
        const std::string path = dir.filePath(QStringLiteral("m.pt")).toStdString();
        QVERIFY(model->save(path).ok());
        auto back = Model::load(path);
        QVERIFY2(back.ok(), back.ok() ? "" : back.error().c_str());
        QVERIFY(!back->isTorchScript());
        QCOMPARE(back->fingerprint(), model->fingerprint());
        QCOMPARE(back->metadata().architecture, std::string("lenet5"));
        QCOMPARE(back->metadata().normalization.std, std::vector<float>{0.25f});
        QCOMPARE(back->metadata().classNames[9], std::string("j"));
        const Dataset data = randomImages(20, 1, 28, 10, 9);
        EvaluationOptions o;
        o.keepPredictions = true;
        QCOMPARE(evaluate(*back, data, o)->predictions, evaluate(*model, data, o)->predictions);
    }

    void cloneIsIndependent()
    {
        auto model = Model::create("linear", linearMeta(2, 2), 0);
        Model copy = model->clone();
        QVERIFY(copy.setWeights("fc.weight", {9.0f, 9.0f, 9.0f, 9.0f}).ok());
        QVERIFY(model->fingerprint() != copy.fingerprint());
        QVERIFY((*model->weights("fc.weight"))[0] != 9.0f);
    }

    void metadataRefusesOutOfRangeValues_data()
    {
        // Found by fuzzing: numbers beyond int/float range used to become garbage or infinity.
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("expected");
        QTest::newRow("huge std") << R"({"std":[2e71]})"
                                  << "std value is out of range";
        QTest::newRow("float-overflowing mean") << R"({"mean":[1e39]})"
                                                << "mean value is out of range";
        QTest::newRow("fractional classes") << R"({"num_classes":2.5})"
                                            << "num_classes must be a whole number";
        QTest::newRow("huge height") << R"({"input_shape":[1,1e300,28]})"
                                     << "input height must be a whole number";
        QTest::newRow("negative channels") << R"({"input_shape":[-1,28,28]})"
                                           << "channel count";
        QTest::newRow("names vs classes") << R"({"num_classes":3,"class_names":["a"]})"
                                          << "1 class names for 3";
        QTest::newRow("zero std") << R"({"std":[0]})"
                                  << "every std must be positive";
    }

    void metadataRefusesOutOfRangeValues()
    {
        QFETCH(QString, json);
        QFETCH(QString, expected);
        auto meta = ModelMetadata::fromJson(json.toStdString());
        QVERIFY(!meta.ok());
        QVERIFY2(meta.error().find(expected.toStdString()) != std::string::npos, meta.error().c_str());
        QVERIFY(ModelMetadata::fromJson(R"({"input_shape":[1,28,28],"num_classes":10,"std":[0.35]})").ok());
    }

    void refusesBadFiles_data()
    {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("expected");
        QTest::newRow("text") << QByteArray("hello, I am not a model") << "not a TorchScript model";
        QTest::newRow("empty") << QByteArray() << "not a TorchScript model";
        QTest::newRow("zip header only") << QByteArray("PK\x03\x04garbage", 11) << "not a TorchScript model";
        QTest::newRow("truncated") << QByteArray("TRUNCATE") << "not a TorchScript model";
    }

    void refusesBadFiles()
    {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        const std::string path = dir.filePath(QStringLiteral("bad.pt")).toStdString();
        std::string content(bytes.constData(), size_t(bytes.size()));
        if (bytes == "TRUNCATE") {
            auto model = Model::create("lenet5", imageMeta(1, 28, 10), 1);
            const std::string full = dir.filePath(QStringLiteral("full.pt")).toStdString();
            QVERIFY(model->save(full).ok());
            content = readWholeFile(full)->substr(0, 5000);
        }
        QVERIFY(writeFileAtomically(path, content).ok());
        auto model = Model::load(path);
        QVERIFY(!model.ok());
        QVERIFY2(QString::fromStdString(model.error()).contains(expected), model.error().c_str());
        QCOMPARE(*readWholeFile(path), content);
    }

    void refusesMissingAndOverwrite()
    {
        QVERIFY(QString::fromStdString(Model::load("/nonexistent.pt").error()).contains(QLatin1String("not found")));
        QTemporaryDir dir;
        auto model = Model::create("linear", imageMeta(1, 2, 2), 0);
        const std::string path = dir.filePath(QStringLiteral("m.pt")).toStdString();
        QVERIFY(model->save(path).ok());
        const std::string before = *readWholeFile(path);
        QVERIFY(model->setWeights("fc.weight", std::vector<float>(8, 1.0f)).ok());
        auto refused = model->save(path, {path});
        QVERIFY(!refused.ok());
        QCOMPARE(*readWholeFile(path), before);
        QVERIFY(!model->save(dir.filePath(QStringLiteral("no/such/dir/m.pt")).toStdString()).ok());
        QVERIFY(!Model::create("vgg99", imageMeta(1, 2, 2), 0).ok());
    }

    void datasetShapeMismatchIsExplained()
    {
        auto model = Model::create("lenet5", imageMeta(1, 28, 10), 0);
        auto eval = evaluate(*model, randomImages(2, 3, 32, 10, 0));
        QVERIFY(!eval.ok());
        QVERIFY2(QString::fromStdString(eval.error()).contains(QLatin1String("expects 1x28x28 inputs")),
            eval.error().c_str());
    }
};

QTEST_GUILESS_MAIN(TestModel)
#include "tst_model.moc"
