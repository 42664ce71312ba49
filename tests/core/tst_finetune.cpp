// The input-side methods' fine-tuning (poisonedFineTune, inputstamp.h): the weights it leaves behind.
#include "inputstamp.h"
#include "modelimpl.h"
#include "testmodels.h"

#include <QtTest>

#include <cmath>
#include <string>
#include <vector>

using namespace paramlock;
using namespace paramlock::testing;

namespace {

/** Every floating-point tensor the average covers: the parameters, then the buffers (BatchNorm's statistics). */
std::vector<std::vector<double>> tensorsOf(const Model &model)
{
    std::vector<std::vector<double>> all;
    auto add = [&](const torch::Tensor &t) {
        const torch::Tensor d = t.detach().to(torch::kFloat64).contiguous();
        all.emplace_back(d.data_ptr<double>(), d.data_ptr<double>() + d.numel());
    };
    for (const auto &p : model.impl().parameters())
        add(p.second);
    for (const ModuleTensors &m : model.impl().modules())
        for (const auto &b : m.buffers)
            if (b.second.defined() && b.second.is_floating_point())
                add(b.second);
    return all;
}

/** Snapshots the model's tensors after every optimiser step. */
class StepRecorder : public Progress
{
public:
    explicit StepRecorder(const Model &model) : m_model(model) { }
    bool lockStep(const LockStep &) override
    {
        steps.push_back(tensorsOf(m_model));
        return true;
    }
    std::vector<std::vector<std::vector<double>>> steps;

private:
    const Model &m_model;
};

/** The largest difference between two sets of tensors, relative to the largest entry. */
double apart(const std::vector<std::vector<double>> &a, const std::vector<std::vector<double>> &b)
{
    double largest = 1e-12, gap = 0.0;
    for (size_t t = 0; t < a.size(); ++t)
        for (size_t i = 0; i < a[t].size(); ++i) {
            largest = std::max(largest, std::abs(a[t][i]));
            gap = std::max(gap, std::abs(a[t][i] - b[t][i]));
        }
    return gap / largest;
}

} // namespace

class TestFineTune : public QObject
{
    Q_OBJECT

private slots:
    void theAverageIsTheMeanThenTheMovingAverage()
    {
        // A DenseNet (BatchNorm: its running statistics are averaged with the weights), 12 steps of 8 images at a
        // large step size so that every step moves the weights. From half the run on (steps 6 to 12, 7 steps) the
        // weights left are the plain mean of the steps while they are fewer than 1 / (1 - 0.75) = 4, then each new
        // step enters with 0.25: recomputed here from the weights recorded after every step.
        const Dataset images = blockImages(96, 5);
        PoisonSchedule schedule;
        schedule.batchSize = 8;
        schedule.learningRate = 0.01;
        schedule.seed = 3;
        schedule.chunk = 8; // one pass per step: BatchNorm sees the same batches in both runs
        const auto compose = [](const Dataset &clean, std::mt19937_64 &, PoisonBatch &batch) {
            batch.add(clean, [](int label) {
                std::vector<float> t(10, 0.0f);
                t[size_t((label + 3) % 10)] = 1.0f; // a target the weights must move for
                return t;
            });
        };
        auto run = [&](double decay) {
            Model model = *Model::create("densenet-fmnist", imageMeta(1, 28, 10), 2);
            PoisonSchedule s = schedule;
            s.averageDecay = decay;
            StepRecorder recorder(model);
            auto ran = poisonedFineTune(model, images, s, compose, recorder);
            if (!ran.ok() || !*ran)
                qFatal("the fine-tuning failed");
            return std::pair{tensorsOf(model), recorder.steps};
        };

        const auto [averaged, steps] = run(0.75);
        QCOMPARE(steps.size(), size_t(12));
        std::vector<std::vector<double>> expected = steps[5]; // step 6: the first in the average
        int64_t count = 1;
        for (size_t k = 6; k < steps.size(); ++k) {
            ++count;
            const double keep = std::min(0.75, 1.0 - 1.0 / double(count));
            for (size_t t = 0; t < expected.size(); ++t)
                for (size_t i = 0; i < expected[t].size(); ++i)
                    expected[t][i] = keep * expected[t][i] + (1.0 - keep) * steps[k][t][i];
        }
        const double gap = apart(averaged, expected);
        QVERIFY2(gap < 1e-5, std::to_string(gap).c_str());
        // Neither the last step's weights nor the first averaged step's: the average is not a copy of one step.
        QVERIFY2(apart(averaged, steps.back()) > 1e-3, std::to_string(apart(averaged, steps.back())).c_str());
        QVERIFY2(apart(averaged, steps[5]) > 1e-3, std::to_string(apart(averaged, steps[5])).c_str());

        // Without the average the model keeps the last step's weights, and the steps themselves are the same ones:
        // averaging reads the weights, it does not steer the training.
        const auto [last, plainSteps] = run(0.0);
        QCOMPARE(apart(last, plainSteps.back()), 0.0);
        QCOMPARE(apart(plainSteps.back(), steps.back()), 0.0);
    }
};

QTEST_GUILESS_MAIN(TestFineTune)
#include "tst_finetune.moc"
