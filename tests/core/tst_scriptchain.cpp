// TorchScript forwards split into stages (scriptchain.h): the stages reproduce forward() bit for bit from any
// layer's stage, a cached activation is never written into, graphs that are not chains run whole, and a lock picks
// the same weights with and without reusing activations.
#include "modelimpl.h"
#include "testmodels.h"

#include <QTemporaryDir>
#include <QtTest>

using namespace paramlock;
using namespace paramlock::testing;

namespace {

torch::jit::Module conv(const std::string &type, int64_t in, int64_t out, uint64_t seed)
{
    torch::manual_seed(seed);
    torch::jit::Module m(type);
    m.register_parameter("weight", torch::randn({out, in, 3, 3}) * 0.3, false);
    m.register_parameter("bias", torch::randn({out}) * 0.1, false);
    m.define("def forward(self, x):\n    return torch.conv2d(x, self.weight, self.bias, [1, 1], [1, 1])\n");
    return m;
}

torch::jit::Module linear(const std::string &type, int64_t in, int64_t out, uint64_t seed)
{
    torch::manual_seed(seed);
    torch::jit::Module m(type);
    m.register_parameter("weight", torch::randn({out, in}) * 0.1, false);
    m.register_parameter("bias", torch::randn({out}) * 0.1, false);
    m.define("def forward(self, x):\n    return torch.linear(x, self.weight, self.bias)\n");
    return m;
}

/** Saves a scripted module and loads it as a user's file, with a 1 x 6 x 6 input and 3 classes. */
Model saved(torch::jit::Module module, const QTemporaryDir &dir, const char *name)
{
    const std::string path = dir.filePath(QLatin1String(name)).toStdString();
    module.eval();
    module.save(path);
    auto model = Model::load(path);
    if (!model)
        qFatal("%s", model.error().c_str());
    model->setMetadata(imageMeta(1, 6, 3));
    return *model;
}

/**
 * A dense concatenation, a residual connection with in-place additions and ReLUs, and a classifier: the patterns
 * of torchvision's DenseNet and ResNet in a few lines.
 */
Model chainModel(const QTemporaryDir &dir)
{
    torch::jit::Module net("ChainNet");
    net.register_module("conv1", conv("Conv1", 1, 4, 1));
    net.register_module("conv2", conv("Conv2", 4, 4, 2));
    net.register_module("conv3", conv("Conv3", 8, 8, 3));
    net.register_module("fc", linear("Fc", 8 * 6 * 6, 3, 4));
    net.define(R"(
def forward(self, x):
    x = torch.relu(self.conv1.forward(x))
    x = torch.cat([x, self.conv2.forward(x)], 1)
    y = self.conv3.forward(x)
    y += x
    y.relu_()
    return self.fc.forward(torch.flatten(y, 1))
)");
    return saved(net, dir, "chain.pt");
}

Dataset images(int count)
{
    return randomImages(count, 1, 6, 3, 7);
}

torch::Tensor inputs(const Model &model, int count)
{
    return inputTensor(images(count), 0, count, model.metadata().normalization);
}

} // namespace

class TestScriptChain : public QObject
{
    Q_OBJECT

private slots:
    void chainReproducesForwardFromEveryStage()
    {
        QTemporaryDir dir;
        const Model model = chainModel(dir);
        ModelImpl &impl = model.impl();
        impl.setTraining(false);
        torch::NoGradGuard noGrad;
        const torch::Tensor x = inputs(model, 5);
        const torch::Tensor whole = impl.forward(x);
        const int count = impl.stageCount();
        QVERIFY2(count >= 3, QByteArray::number(count).constData());
        QVERIFY(QString::fromStdString(impl.stagePlan()).contains(QLatin1String("splits into")));
        QCOMPARE(impl.stageOf("conv1.weight"), 0);
        QVERIFY(impl.stageOf("conv2.weight") > impl.stageOf("conv1.weight"));
        QVERIFY(impl.stageOf("fc.weight") > impl.stageOf("conv3.weight"));
        for (const std::string name : {"conv1.weight", "conv2.weight", "conv3.weight", "fc.weight"}) {
            const int stage = impl.stageOf(name);
            const torch::Tensor entering = impl.forwardStages(x, 0, stage);
            const torch::Tensor kept = entering.clone();
            QVERIFY2(torch::equal(impl.forwardStages(entering, stage, count), whole), name.c_str());
            // Twice from the same cached activation: the residual's in-place ReLU must not have changed it.
            QVERIFY2(torch::equal(impl.forwardStages(entering, stage, count), whole), name.c_str());
            QVERIFY2(torch::equal(entering, kept), name.c_str());
        }
    }

    void aLaterInPlaceWriteMovesTheCut()
    {
        // conv2 reads `a`, which is then rectified in place: a stage starting at conv2 with `a` cached would see
        // it rectified on the second iteration, so conv2 stays in conv1's stage.
        QTemporaryDir dir;
        torch::jit::Module net("WritesBack");
        net.register_module("conv1", conv("Conv1", 1, 4, 1));
        net.register_module("conv2", conv("Conv2", 4, 4, 2));
        net.register_module("fc", linear("Fc", 4 * 6 * 6, 3, 4));
        net.define(R"(
def forward(self, x):
    a = self.conv1.forward(x)
    b = self.conv2.forward(a)
    a.relu_()
    return self.fc.forward(torch.flatten(a + b, 1))
)");
        const Model model = saved(net, dir, "writes.pt");
        ModelImpl &impl = model.impl();
        impl.setTraining(false);
        QCOMPARE(impl.stageCount(), 2);
        QCOMPARE(impl.stageOf("conv2.weight"), 0);
        QCOMPARE(impl.stageOf("fc.weight"), 1);
        torch::NoGradGuard noGrad;
        const torch::Tensor x = inputs(model, 4);
        QVERIFY(torch::equal(impl.forwardStages(impl.forwardStages(x, 0, 1), 1, 2), impl.forward(x)));
    }

    void graphsThatAreNoChainRunWhole_data()
    {
        QTest::addColumn<QString>("source");
        QTest::addColumn<QString>("reason");
        // Both layers read the input: no single tensor carries the computation from one to the other.
        QTest::newRow("two branches") << "def forward(self, x):\n"
                                         "    return self.fc1.forward(torch.flatten(x, 1)) + "
                                         "self.fc2.forward(torch.flatten(x, 1))\n"
                                      << "not a chain";
        QTest::newRow("two inputs") << "def forward(self, x, y: Optional[Tensor] = None):\n"
                                       "    x = torch.flatten(x, 1)\n"
                                       "    return self.fc2.forward(torch.relu(self.fc1.forward(x)))\n"
                                    << "takes 2 inputs";
    }

    void graphsThatAreNoChainRunWhole()
    {
        QFETCH(QString, source);
        QFETCH(QString, reason);
        QTemporaryDir dir;
        torch::jit::Module net("Branches");
        net.register_module("fc1", linear("Fc1", 36, 3, 1));
        const bool stacked = reason.contains(QLatin1String("inputs"));
        net.register_module("fc2", linear("Fc2", stacked ? 3 : 36, 3, 2));
        net.define(source.toStdString());
        const Model model = saved(net, dir, "branches.pt");
        ModelImpl &impl = model.impl();
        QCOMPARE(impl.stageCount(), 1);
        QCOMPARE(impl.stageOf("fc2.weight"), 0);
        QVERIFY2(QString::fromStdString(impl.stagePlan()).contains(reason), impl.stagePlan().c_str());
        torch::NoGradGuard noGrad;
        const torch::Tensor x = inputs(model, 3);
        QVERIFY(torch::equal(impl.forwardStages(x, 0, 1), impl.forward(x)));
    }

    void lockPicksTheSameWeightsWithReuse_data()
    {
        QTest::addColumn<QString>("mode");
        QTest::newRow("paper") << "paper";
        QTest::newRow("strong") << "strong";
    }

    void lockPicksTheSameWeightsWithReuse()
    {
        QFETCH(QString, mode);
        QTemporaryDir dir;
        const Model model = chainModel(dir);
        const Dataset data = images(12);
        AdvParamsOptions options;
        options.settings.chunkSize = 5;
        options.settings.mode = *modeFromId(mode.toStdString());
        options.settings.maxIterations = 3;
        options.settings.seed = 9;
        options.settings.allLayers = true;
        if (mode == QLatin1String("strong")) {
            options.settings.maxWeights = 6;
            options.settings.targetAccuracy = 0.01;
        }
        AdvParamsLock reused;
        const std::string differs = reuseChangesNothing(model, data, options, &reused);
        QVERIFY2(differs.empty(), differs.c_str());
        const auto &notes = reused.notes;
        QVERIFY(std::any_of(notes.begin(), notes.end(),
            [](const std::string &n) { return n.find("splits into") != std::string::npos; }));
    }
};

QTEST_GUILESS_MAIN(TestScriptChain)
#include "tst_scriptchain.moc"
