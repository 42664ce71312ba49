#pragma once

#include "dataset.h"
#include "expected.h"
#include "model.h"
#include "progress.h"

#include <cstdint>
#include <string>
#include <vector>

namespace paramlock {

struct EvaluationOptions
{
    int batchSize = 0; ///< images per forward pass; 0: the fastest for the model here, measured (ForwardBatches)
    int64_t limit = 0; ///< evaluate only the first `limit` samples (0: all)
    bool keepPredictions = false;
};

struct Evaluation
{
    double accuracy = 0.0; ///< fraction in [0, 1]
    int64_t correct = 0;
    int64_t total = 0;
    double meanLoss = 0.0;
    double seconds = 0.0;
    int batchSize = 0; ///< the batch size it ran at (after the probe, when it chose one)
    std::vector<int32_t> predictions; ///< when asked for
};

/** Test accuracy of a model on a dataset, in inference mode. */
Expected<Evaluation> evaluate(
    const Model &model, const Dataset &data, const EvaluationOptions &options = {}, Progress *progress = nullptr);

/** A classification: the most probable class and its softmax probability. */
struct Prediction
{
    int32_t label = -1;
    float probability = 0.0f;
    float truth = 0.0f; ///< the probability of the image's own label (0 when the label is not a class)
};

/**
 * Classifies every image of a dataset in inference mode; batch size as for evaluate(). The labels, where the dataset
 * has them, only give each prediction's `truth`.
 */
Expected<std::vector<Prediction>> predict(const Model &model, const Dataset &images, int batchSize = 0);

/**
 * What the fastest forward batch size depends on: the architecture (parameter and buffer names and shapes, the
 * input shape, the source) and the thread count; the cache key of ForwardBatches.
 */
std::string forwardBatchKey(const Model &model);

/**
 * The floor of evaluation: seconds of the model's forward pass alone over the
 * first `limit` samples (0: all), on input batches prepared beforehand, in
 * inference mode; the best of `repeats`.
 */
Expected<double> rawForwardSeconds(
    const Model &model, const Dataset &data, int batchSize = 250, int64_t limit = 0, int repeats = 1);

/** Accuracy alone, on the first `limit` samples (0: all). */
Expected<double> accuracyOn(const Model &model, const Dataset &data, int64_t limit = 0);

/** Checks that a dataset fits the model's declared input shape and class count. */
Expected<void> checkCompatible(const Model &model, const Dataset &data);

/**
 * Runs a batch of two images (then one) through the model: one sentence naming the input shape and the batch when
 * it fails, with the hint that a traced model may have frozen its batch size; never a TorchScript traceback.
 */
Expected<void> checkRuns(const Model &model, const Dataset &data);

/** Refuses NaN and infinite conv/FC weights, naming the layer. */
Expected<void> checkFiniteWeights(const Model &model);

/** A training recipe. The presets follow the AdvParams paper (METHODS.md). */
struct TrainOptions
{
    std::string optimizer = "sgd"; ///< "sgd" (momentum 0.9) or "adam"
    double learningRate = 0.1;
    double weightDecay = 5e-4;
    bool cosineSchedule = true;
    int epochs = 20;
    int batchSize = 128;
    uint64_t seed = 0;
    int64_t limit = 0; ///< use only the first `limit` training samples (0: all)

    /** The paper's recipe for a zoo architecture. */
    static TrainOptions paperRecipe(const std::string &architecture);
};

struct EpochRecord
{
    int epoch = 0;
    double trainLoss = 0.0;
    double trainAccuracy = 0.0;
    double testAccuracy = -1.0; ///< -1 when no test set was given
    double seconds = 0.0;
};

struct TrainReport
{
    std::vector<EpochRecord> epochs;
    double seconds = 0.0;
};

/** Trains a model in place. A cancel stops after the current batch; the model keeps what it learnt. */
Expected<TrainReport> train(
    Model &model, const Dataset &trainSet, const Dataset *testSet, const TrainOptions &options, Progress &progress);

} // namespace paramlock
