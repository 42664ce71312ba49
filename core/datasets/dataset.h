#pragma once

#include "expected.h"

#include <cstdint>
#include <string>
#include <vector>

namespace paramlock {

enum class Split { Train, Test };

/** Per-channel input normalisation: x = (pixel / 255 - mean) / std. */
struct Normalization
{
    std::vector<float> mean; ///< one per channel; empty means 0
    std::vector<float> std; ///< one per channel; empty means 1

    bool isIdentity() const;
};

/**
 * A labelled image set held as 8-bit pixels in CHW order, the way every
 * supported format stores it; tensors are made from it on demand.
 */
struct Dataset
{
    std::string name; ///< "fashion-mnist", "cifar-10", "gtsrb", "image-folder", "mnist"
    std::string source; ///< the files it was read from
    int channels = 0;
    int height = 0;
    int width = 0;
    int classCount = 0;
    std::vector<std::string> classNames;
    Normalization normalization; ///< the dataset's customary normalisation
    std::vector<uint8_t> pixels; ///< size() * channels * height * width
    std::vector<int32_t> labels;

    int64_t size() const { return static_cast<int64_t>(labels.size()); }
    int64_t imageBytes() const { return int64_t(channels) * height * width; }
    const uint8_t *image(int64_t i) const { return pixels.data() + i * imageBytes(); }

    /** The samples at the given positions, in that order. */
    Dataset subset(const std::vector<int64_t> &indices) const;
};

/** Options for reading a dataset folder. */
struct DatasetOptions
{
    /** Image-folder and GTSRB images are resized to this (0: keep the first image's size / 32 for GTSRB). */
    int width = 0;
    int height = 0;
};

/** The folder of the Debian package dataset-fashion-mnist. */
std::string debianFashionMnistPath();

/**
 * Reads one split of a dataset, detecting the format from the path:
 * "fashion-mnist" (the Debian package's copy), an IDX folder (raw or .gz),
 * a CIFAR-10 binary folder, a GTSRB folder in its official layout, or an
 * image folder with one sub-folder per class (train/ and test/ if present).
 */
Expected<Dataset> loadDataset(const std::string &path, Split split, const DatasetOptions &options = {});

/** Names the format loadDataset would use for a path ("idx", "cifar-10", "gtsrb", "image-folder"), or an error. */
Expected<std::string> detectDatasetFormat(const std::string &path);

// The individual readers, exposed for tests and tools.
Expected<Dataset> readIdx(const std::string &imagesFile, const std::string &labelsFile);
Expected<Dataset> readCifar10(const std::vector<std::string> &batchFiles, const std::string &metaFile = {});
Expected<Dataset> readGtsrb(const std::string &root, Split split, const DatasetOptions &options = {});
Expected<Dataset> readImageFolder(const std::string &root, const DatasetOptions &options = {});

/** How a method draws its images from the training split (AdvParams: the encryption set D_e). */
struct SamplingOptions
{
    int64_t count = 0; ///< how many; the method's setting says (AdvParams: its N)
    uint64_t seed = 0;
    bool classBalanced = false;
};

/**
 * Draws distinct sample positions, reproducibly for a seed. Class-balanced
 * sampling takes count / classes from each class (the remainder from
 * randomly chosen classes) and fails if a class is too small.
 */
Expected<std::vector<int64_t>> sampleIndices(const Dataset &dataset, const SamplingOptions &options);

} // namespace paramlock
