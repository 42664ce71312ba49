#pragma once

// Saving a product model with the owner's registry (licences, fingerprints): one flow for every page that makes one.

#include "lockresult.h"

#include <QString>

#include <functional>

class QWidget;

namespace paramlock {

class Job;
class LockDocument;

/**
 * Asks for a password (optional) and the two paths, then writes the model and the registry (sealed when a password
 * was given) in `files`, never over the open model; `done` receives whether the registry was sealed and both paths.
 * `what` names the model ("licensed"), its suffix the file names ("-licensed.pt", "-registry.json").
 */
void saveModelAndRegistry(QWidget *parent, Job *files, const LockDocument &document, const LockResult &result,
    const QString &what, const QString &modelSuffix, const QString &registrySuffix,
    const std::function<void(bool sealed, const QString &model, const QString &registry)> &done);

} // namespace paramlock
