#pragma once

#include <string>

namespace paramlock {

/**
 * The path of a file shipped with ParamLock (e.g. "models/lenet5-fmnist.pt"),
 * looked up in $PARAMLOCK_RESOURCES, next to the program (../share/paramlock),
 * the install prefix and the source tree; empty when it is nowhere.
 */
std::string shippedFile(const std::string &relativePath);

/** The demo model: LeNet-5 trained on Fashion-MNIST. */
std::string demoModelPath();

} // namespace paramlock
