#include "saveregistry.h"

#include "job.h"
#include "keyprotectiondialog.h"
#include "lockdocument.h"
#include "sealedkey.h"
#include "unlock.h"

#include <QFileDialog>
#include <QFileInfo>

namespace paramlock {

void saveModelAndRegistry(QWidget *parent, Job *files, const LockDocument &document, const LockResult &result,
    const QString &what, const QString &modelSuffix, const QString &registrySuffix,
    const std::function<void(bool sealed, const QString &model, const QString &registry)> &done)
{
    KeyProtectionDialog protection(parent);
    protection.setWindowTitle(QObject::tr("Protect the registry"));
    if (protection.exec() != QDialog::Accepted)
        return;
    const QFileInfo open(document.modelPath());
    const QString model = QFileDialog::getSaveFileName(parent, QObject::tr("Save the %1 model").arg(what),
        open.absolutePath() + QLatin1Char('/') + open.completeBaseName() + modelSuffix,
        QObject::tr("TorchScript (*.pt)"));
    if (model.isEmpty())
        return;
    const QString registry = QFileDialog::getSaveFileName(parent, QObject::tr("Save the owner's registry"),
        QFileInfo(model).absolutePath() + QLatin1Char('/') + open.completeBaseName() + registrySuffix,
        QObject::tr("ParamLock registry (*.json)"));
    if (registry.isEmpty())
        return;
    const std::vector<std::string> inputs = {document.modelPath().toStdString()};
    files->start<bool>(
        [result, secret = protection.password().toStdString(), model = model.toStdString(),
            key = registry.toStdString(), inputs](Progress &) mutable -> Expected<bool> {
            std::string text;
            if (!secret.empty()) {
                auto sealed = sealKey(result.key, secret, "owner");
                wipe(secret);
                if (!sealed)
                    return Error{sealed.error()};
                text = std::move(*sealed);
            }
            if (auto ok = saveLock(result, model, key, inputs, text); !ok)
                return Error{ok.error()};
            return !text.empty();
        },
        [done, model, registry](bool sealed) { done(sealed, model, registry); });
}

} // namespace paramlock
