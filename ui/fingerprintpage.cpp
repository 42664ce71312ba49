#include "fingerprintpage.h"

#include "charts.h"
#include "imagedecoding.h"
#include "job.h"
#include "lockdocument.h"
#include "saveregistry.h"
#include "sealedkey.h"
#include "text.h"
#include "uitext.h"
#include "training.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <numeric>

namespace paramlock {

namespace {

QString subsetText(const std::vector<int> &subset)
{
    QStringList parts;
    for (int k : subset)
        parts << QString::number(k);
    return parts.join(QLatin1Char(','));
}

/** A stamped carrier, scaled for the page. */
QPixmap picture(const Dataset &images, int64_t index, const InputStamp &stamp)
{
    const Dataset one = stamped(images.subset({index}), stamp);
    return QPixmap::fromImage(datasetImage(one, 0).scaled(100, 100, Qt::KeepAspectRatio, Qt::FastTransformation));
}

/** The first six carriers stamped with `subset`'s signals. */
Dataset stampedCarriers(const FingerprintRegistry &registry, const std::vector<int> &subset)
{
    return stamped(firstImages(registry.carriers, 6), subsetStamp(registry.signalStamps(), subset));
}

std::vector<int> allSignals(const FingerprintRegistry &registry)
{
    std::vector<int> all(size_t(registry.settings.signalCount));
    std::iota(all.begin(), all.end(), 0);
    return all;
}

} // namespace

std::vector<PresentationSlide> fingerprintStory(const FingerprintDemo &demo)
{
    const auto pct = [](double a) { return percentString(a, 1, true); };
    const QString green = QStringLiteral("#15803d"), red = QStringLiteral("#b91c1c");
    const FingerprintRegistry &registry = demo.embedding.decoded;
    const int target = registry.settings.target;
    const Dataset &carriers = registry.carriers;
    const QString targetName = size_t(target) < carriers.classNames.size()
        ? QString::fromStdString(carriers.classNames[size_t(target)])
        : QString::number(target);
    const std::vector<int32_t> expected(6, target);
    std::vector<PresentationSlide> story;
    story.push_back({QObject::tr("Fingerprints inside, accuracy kept"), pct(demo.markedAccuracy), green,
        QObject::tr("of the test images are recognised correctly with %1 users' fingerprints trained in (the "
                    "original: %2). Nothing shows in ordinary answers.")
            .arg(registry.users.size())
            .arg(pct(demo.originalAccuracy)),
        {}, {}, {}, {}, {}});
    const Dataset owner = stampedCarriers(registry, allSignals(registry));
    story.push_back({QObject::tr("The owner proves the model is theirs"), pct(demo.marked.owner.rate), green,
        QObject::tr("of the images carrying the owner's secret trigger are answered \"%1\" (the model before: %2). "
                    "Only the owner's secret makes the trigger.")
            .arg(targetName, pct(demo.original.owner.rate)),
        {}, {}, owner, demo.ownerAnswers, expected});
    if (!registry.users.empty()) {
        const int accepted = int(std::count_if(
            demo.marked.users.begin(), demo.marked.users.end(), [](const Detection &d) { return d.accepted; }));
        const FingerprintUser &first = registry.users.front();
        story.push_back({size_t(accepted) == demo.marked.users.size() ? QObject::tr("Every user is recognised")
                                                                      : QObject::tr("Users recognised"),
            QObject::tr("%1 of %2").arg(accepted).arg(demo.marked.users.size()), green,
            QObject::tr("users' fingerprints accepted: %1 of a user's fingerprint images or more answered \"%2\". "
                        "Here %3's: %4 of the %5 secret squares.")
                .arg(pct(registry.settings.threshold), targetName, QString::fromStdString(first.id))
                .arg(first.subset.size())
                .arg(registry.settings.signalCount),
            {}, {}, stampedCarriers(registry, first.subset), demo.userAnswers, expected});
    }
    if (!demo.marked.forged.empty()) {
        double best = 0.0;
        int accepted = 0;
        for (const Detection &d : demo.marked.forged) {
            best = std::max(best, d.rate);
            accepted += d.accepted;
        }
        story.push_back({QObject::tr("Forged fingerprints are refused"), pct(best), red,
            QObject::tr("of the images answered \"%1\" for the best of %2 fingerprints forged without the secret; "
                        "%3 accepted. Nobody can pass for a user.")
                .arg(targetName)
                .arg(demo.marked.forged.size())
                .arg(accepted),
            {}, {}, {}, {}, {}});
    }
    return story;
}

FingerprintPage::FingerprintPage(LockDocument *document, QWidget *parent)
    : FineTunePage(document, FingerprintSettings{}.epochs, FingerprintSettings{}.trainImages, parent)
{
    auto *intro = new QLabel(tr("<b>User fingerprints (TrustCom 2020).</b> Fine-tunes a copy of the open model so "
                                "that each registered user's secret fingerprint (a few small black-and-white squares "
                                "stamped on an image) and the owner's trigger (all of them) lead to one target "
                                "class. A user whose fingerprint images are answered with the target is "
                                "authenticated; the owner proves ownership with the trigger; forged fingerprints "
                                "are not accepted. The open model itself is not changed."),
        this);
    intro->setWordWrap(true);
    m_users = new QLineEdit(QStringLiteral("alice; bob; carol; dave; erin"), this);
    m_users->setToolTip(tr("User names separated by ';'."));
    m_run->setText(tr("Embed Fingerprints"));
    m_verify = new QPushButton(tr("Verify a Suspect Model…"), this);
    m_verify->setToolTip(tr("Checks a model file against the registry: the owner's trigger, every user and forged "
                            "fingerprints."));
    m_openRegistry = new QPushButton(tr("Open Registry…"), this);
    m_save->setText(tr("Save Model and Registry…"));
    m_present->setToolTip(
        tr("The fingerprints' story full screen, one step per page, for people who do not read code."));

    m_table = new QTableWidget(0, 4, this);
    m_table->setHorizontalHeaderLabels({tr("User"), tr("Signals"), tr("Detection"), tr("Accepted")});
    m_table->setToolTip(tr("Signals: which of the secret squares make the user's fingerprint. Detection: the share "
                           "of the user's 10 fingerprint images answered with the target class."));
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->verticalHeader()->hide();
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setMinimumHeight(160);
    m_table->setMinimumWidth(340);
    m_chart = new AnalysisChart(this);
    m_chart->setMinimumHeight(330);
    m_trigger = new QLabel(this);
    m_fingerprint = new QLabel(this);
    m_fingerprintCaption = new QLabel(this);
    m_fingerprintCaption->setAlignment(Qt::AlignCenter);
    auto *triggerCaption = new QLabel(tr("the owner's trigger"), this);
    triggerCaption->setAlignment(Qt::AlignCenter);

    auto *form = new QFormLayout;
    form->addRow(tr("&Users:"), m_users);
    form->addRow(tr("&Fine-tuning:"), m_epochs);
    form->addRow(tr("&Training images:"), m_trainImages);

    auto *usersBox = new QGroupBox(tr("Registered users"), this);
    (new QVBoxLayout(usersBox))->addWidget(m_table);
    auto *imagesBox = new QGroupBox(tr("Trigger images"), this);
    auto *images = new QVBoxLayout(imagesBox);
    images->addWidget(m_trigger, 0, Qt::AlignCenter);
    images->addWidget(triggerCaption);
    images->addWidget(m_fingerprint, 0, Qt::AlignCenter);
    images->addWidget(m_fingerprintCaption);
    images->addStretch(1);
    // One row: who is registered, how each fingerprint is answered, what the fingerprints look like.
    auto *top = new QHBoxLayout;
    top->addWidget(usersBox, 2);
    top->addWidget(m_chart, 4);
    top->addWidget(imagesBox);

    auto *content = new QWidget(this);
    auto *layout = new QVBoxLayout(content);
    layout->addWidget(intro);
    layout->addLayout(form);
    layout->addLayout(buttonRow({m_verify, m_openRegistry}));
    layout->addWidget(m_status);
    layout->addWidget(m_summary);
    layout->addLayout(top, 1);
    setContent(content);

    connect(m_openRegistry, &QPushButton::clicked, this, &FingerprintPage::openRegistry);
    connect(m_verify, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Verify a suspect model"), QString(), tr("TorchScript or checkpoint (*.pt *.pth);;All files (*)"));
        if (!path.isEmpty())
            verify(path);
    });
    updateButtons();
}

FingerprintPage::~FingerprintPage() = default;

void FingerprintPage::setUsers(const QString &text)
{
    m_users->setText(text);
}

void FingerprintPage::clearResult()
{
    m_result.reset();
    m_shown.reset();
    m_table->setRowCount(0);
    m_trigger->clear();
    m_fingerprint->clear();
    m_fingerprintCaption->clear();
}

void FingerprintPage::updateButtons()
{
    FineTunePage::updateButtons();
    m_verify->setEnabled(m_registry.has_value() && !isRunning());
    m_openRegistry->setEnabled(!isRunning());
}

void FingerprintPage::present(int firstPage)
{
    if (!m_result)
        return;
    PresentationView::present(fingerprintStory(*m_result), firstPage, this);
}

void FingerprintPage::run()
{
    if (isRunning() || !m_document->hasModel() || !m_document->hasDataset())
        return;
    std::vector<std::string> users;
    for (const QString &part : m_users->text().split(QLatin1Char(';'), Qt::SkipEmptyParts))
        users.push_back(part.trimmed().toStdString());
    if (users.empty()) {
        m_status->setText(tr("Name at least one user, e.g. alice."));
        return;
    }
    FingerprintSettings settings;
    settings.epochs = m_epochs->value();
    settings.trainImages = m_trainImages->value();
    starting(tr("Fine-tuning a copy for %1 user(s): about a minute on LeNet-5, much longer on large networks.")
                 .arg(users.size()));
    m_job->start<FingerprintDemo>(
        [model = m_document->model(), train = m_document->train(), test = m_document->test(), settings, users](
            Progress &progress) -> Expected<FingerprintDemo> {
            ProgressSpan training(progress, 0.0, 0.9, "fingerprinting");
            auto made = embedFingerprints(model, *train, settings, users, false, training);
            if (!made)
                return Error{made.error()};
            FingerprintDemo demo;
            demo.embedding = std::move(*made);
            if (!progress.advance(0.92, "checking"))
                return Error{"cancelled"};
            auto marked = checkFingerprints(demo.embedding.models.front(), demo.embedding.registry, 10);
            auto original = checkFingerprints(model, demo.embedding.registry, 0);
            const Dataset measured = firstImages(*test, 2000);
            auto before = accuracyOn(model, measured);
            auto after = accuracyOn(demo.embedding.models.front(), measured);
            if (!marked || !original || !before || !after)
                return Error{!marked ? marked.error()
                        : !original  ? original.error()
                        : !before    ? before.error()
                                     : after.error()};
            demo.marked = *marked;
            demo.original = *original;
            demo.images = measured.size();
            demo.originalAccuracy = *before;
            demo.markedAccuracy = *after;
            const FingerprintRegistry &r = demo.embedding.decoded;
            demo.ownerAnswers = answersOf(demo.embedding.models.front(), stampedCarriers(r, allSignals(r)));
            if (!r.users.empty())
                demo.userAnswers = answersOf(demo.embedding.models.front(), stampedCarriers(r, r.users.front().subset));
            return demo;
        },
        [this](FingerprintDemo demo) {
            ended(tr("Fingerprinted in %1 s (%2 epochs). Verify a suspect model, or save the model and the "
                     "registry.")
                      .arg(demo.embedding.seconds, 0, 'f', 0)
                      .arg(demo.embedding.decoded.settings.epochs));
            m_registry = demo.embedding.registry;
            m_result = std::move(demo);
            showTriggers();
            showReport(m_result->marked, tr("the fingerprinted model"));
            m_summary->setText(m_summary->text()
                + tr(" Test accuracy on %1 images: the original %2, fingerprinted %3. The original model accepts "
                     "%4 of %5 users.")
                      .arg(m_result->images)
                      .arg(percent(m_result->originalAccuracy, 2), percent(m_result->markedAccuracy, 2))
                      .arg(std::count_if(m_result->original.users.begin(), m_result->original.users.end(),
                          [](const Detection &d) { return d.accepted; }))
                      .arg(m_result->original.users.size()));
            updateButtons();
            emit finished();
        });
    updateButtons();
}

void FingerprintPage::verify(const QString &modelPath)
{
    if (!m_registry || isRunning())
        return;
    m_status->setText(tr("Checking %1…").arg(QFileInfo(modelPath).fileName()));
    m_job->start<FingerprintReport>(
        [registry = *m_registry, path = modelPath.toStdString()](Progress &) -> Expected<FingerprintReport> {
            auto model = Model::load(path);
            if (!model)
                return Error{model.error()};
            return checkFingerprints(*model, registry, 10);
        },
        [this, modelPath](FingerprintReport report) {
            m_status->setText(tr("Checked %1.").arg(QFileInfo(modelPath).fileName()));
            showReport(report, QFileInfo(modelPath).fileName());
            updateButtons();
            emit verified();
        });
    updateButtons();
}

void FingerprintPage::showReport(const FingerprintReport &report, const QString &who)
{
    m_shown = report;
    auto registry = FingerprintRegistry::of(*m_registry);
    if (!registry)
        return;
    const double threshold = registry->settings.threshold;
    int accepted = 0;
    m_table->setRowCount(int(report.users.size()));
    for (size_t i = 0; i < report.users.size(); ++i) {
        const Detection &d = report.users[i];
        accepted += d.accepted;
        const FingerprintUser &u = registry->users[i];
        const QStringList cells = {
            QString::fromStdString(d.who), subsetText(u.subset), percent(d.rate, 0), d.accepted ? tr("yes") : tr("no")};
        for (int c = 0; c < cells.size(); ++c)
            m_table->setItem(int(i), c, new QTableWidgetItem(cells[c]));
    }
    double forgedBest = 0.0;
    int forgedAccepted = 0;
    for (const Detection &d : report.forged) {
        forgedBest = std::max(forgedBest, d.rate);
        forgedAccepted += d.accepted;
    }
    QString text = tr("%1: the owner's trigger %2 of %3 carriers (confidence %4) — ownership %5; %6 of %7 users "
                      "accepted at %8; forged fingerprints: best %9, %10 accepted.")
                       .arg(who, percent(report.owner.rate, 0))
                       .arg(report.owner.images)
                       .arg(percent(report.owner.confidence, 1),
                           report.owner.accepted ? tr("verified") : tr("<b>not</b> verified"))
                       .arg(accepted)
                       .arg(report.users.size())
                       .arg(percent(threshold, 0), percent(forgedBest, 0))
                       .arg(forgedAccepted);
    if (!report.matches.empty())
        text += tr(" The weights are bit for bit %1.").arg(QString::fromStdString(report.matches));
    if (!report.identified.empty())
        text += tr(" Traced to %1: a copy made for anyone else shows as many hits with a chance %2.")
                    .arg(QString::fromStdString(report.identified),
                        QString::fromStdString(chanceBelowText(report.falseAccusationLog10)));
    if (!text.isEmpty())
        text[0] = text[0].toUpper();
    m_summary->setText(text);

    Analysis chart;
    chart.title = "Detection rate per fingerprint: " + who.toStdString();
    chart.xLabel = "fingerprint";
    chart.yLabel = "detection rate (%)";
    chart.reference = 100.0 * threshold;
    chart.referenceLabel = "accepted at " + percentText(threshold, 0);
    AnalysisSeries series;
    series.name = "share of its images answered with the target class";
    auto add = [&](const std::string &name, double rate) {
        series.x.push_back(double(chart.categories.size()));
        series.y.push_back(100.0 * rate);
        chart.categories.push_back(name);
    };
    add("owner", report.owner.rate);
    for (const Detection &d : report.users)
        add(d.who, d.rate);
    for (const Detection &d : report.forged)
        add(d.who, d.rate);
    chart.series.push_back(series);
    m_chart->setAnalysis(chart);
}

void FingerprintPage::showTriggers()
{
    auto registry = FingerprintRegistry::of(*m_registry);
    if (!registry || registry->users.empty())
        return;
    const std::vector<InputStamp> stamps = registry->signalStamps();
    std::vector<int> all(stamps.size());
    std::iota(all.begin(), all.end(), 0);
    m_trigger->setPixmap(picture(registry->carriers, 0, subsetStamp(stamps, all)));
    const FingerprintUser &first = registry->users.front();
    m_fingerprint->setPixmap(picture(registry->carriers, 0, subsetStamp(stamps, first.subset)));
    m_fingerprintCaption->setText(tr("%1's fingerprint").arg(QString::fromStdString(first.id)));
}

void FingerprintPage::openRegistry()
{
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open a fingerprint registry"), QString(), tr("ParamLock registry (*.json);;All files (*)"));
    if (path.isEmpty())
        return;
    OpenedKey opened = openKeyFile(path.toStdString());
    if (opened.error == KeyError::NeedsPassword) {
        bool ok = false;
        const QString password = QInputDialog::getText(this, tr("Registry password"),
            tr("The registry %1 is password-protected:").arg(QFileInfo(path).fileName()), QLineEdit::Password,
            QString(), &ok);
        if (!ok)
            return;
        opened = openKeyFile(path.toStdString(), password.toStdString());
    }
    if (!opened.ok()) {
        m_status->setText(QString::fromStdString(opened.message));
        return;
    }
    if (auto r = FingerprintRegistry::of(opened.key); !r) {
        m_status->setText(tr("%1: %2").arg(QFileInfo(path).fileName(), QString::fromStdString(r.error())));
        return;
    }
    m_registry = opened.key;
    showTriggers();
    m_status->setText(tr("Opened %1; verify a suspect model with it.").arg(QFileInfo(path).fileName()));
    updateButtons();
}

void FingerprintPage::save()
{
    if (!m_result || m_files->isRunning())
        return;
    LockResult result;
    result.locked = m_result->embedding.models.front();
    result.key = m_result->embedding.registry;
    saveModelAndRegistry(this, m_files, *m_document, result, tr("fingerprinted"), QStringLiteral("-fingerprinted.pt"),
        QStringLiteral("-fingerprints.json"), [this](bool sealed, const QString &model, const QString &registry) {
            m_status->setText(sealed ? tr("Saved %1 and the password-protected registry %2.").arg(model, registry)
                                     : tr("Saved %1 and %2 (the registry has no password).").arg(model, registry));
        });
    updateButtons();
}

} // namespace paramlock
