#include "licencepage.h"

#include "imagedecoding.h"
#include "job.h"
#include "lockdocument.h"
#include "saveregistry.h"
#include "text.h"
#include "uitext.h"
#include "training.h"

#include <QComboBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHeaderView>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <numeric>
#include <random>

namespace paramlock {

namespace {

constexpr int kShown = 8; ///< test images per row of the grid

/** The pattern as a picture: grey 128 is "unchanged", the licence's changes amplified 3 x (patches as they are). */
QImage patternImage(const InputStamp &p)
{
    QImage image(p.width, p.height, QImage::Format_Grayscale8);
    for (int y = 0; y < p.height; ++y)
        for (int x = 0; x < p.width; ++x) {
            const size_t i = size_t(y) * size_t(p.width) + size_t(x); // the first channel
            const int v = p.replaced[i] ? p.value[i] : std::clamp(128 + 3 * int(p.add[i]), 0, 255);
            image.setPixel(x, y, qRgb(v, v, v));
        }
    return image;
}

} // namespace

std::vector<PresentationSlide> licenceStory(const LicenceDemo &demo, const Dataset &test)
{
    const auto pct = [](double a) { return percentString(a, 1, true); };
    const QString green = QStringLiteral("#15803d"), red = QStringLiteral("#b91c1c");
    const ModelMetadata &m = demo.lock.licensed.metadata();
    const InputStamp real = demo.licence.pattern(m.channels, m.height, m.width);
    const Dataset shown = firstImages(test, int64_t(demo.with.size()));
    const QString who = QString::fromStdString(demo.licence.licensee.id);
    const QString guess = pct(1.0 / std::max(2, demo.licence.classCount));
    std::vector<PresentationSlide> story;
    story.push_back({QObject::tr("A trained model, ready to use"), pct(demo.original), green,
        QObject::tr("of the test images are recognised correctly."), {}, {}, shown, demo.originalAnswers, {}});
    story.push_back({QObject::tr("Licensed: without a licence it answers nothing"), pct(demo.withoutLicence), red,
        QObject::tr("correct without a licence: no better than guessing (%1). A copy of this file is worthless to "
                    "anyone who holds no licence.")
            .arg(guess),
        {}, {}, shown, demo.without, {}});
    story.push_back({QObject::tr("With %1's licence").arg(who), pct(demo.withLicence), green,
        QObject::tr("correct when the program stamps %1's licence on every image: a faint secret pattern, here "
                    "amplified 3 x. Every licensee has their own, and any one can be revoked.")
            .arg(who),
        patternImage(real), QObject::tr("%1's licence (grey: unchanged)").arg(who), stamped(shown, real), demo.with,
        {}});
    story.push_back({QObject::tr("A forged licence does not work"), pct(demo.withForged), red,
        QObject::tr("correct with a pattern made from another secret: a licence cannot be guessed."),
        patternImage(demo.forged), QObject::tr("the forged pattern"), stamped(shown, demo.forged), demo.forgedAnswers,
        {}});
    return story;
}

LicencePage::LicencePage(LockDocument *document, QWidget *parent)
    : FineTunePage(document, LicenceSettings{}.epochs, LicenceSettings{}.trainImages, parent)
{
    auto *intro = new QLabel(tr("<b>Licences in the input (SecureNet).</b> Fine-tunes a copy of the open model so "
                                "that it answers only images that carry a licence: a secret pattern stamped on every "
                                "input. Each licensee gets their own licence and may see every class (<i>alice</i>), "
                                "some classes (<i>bob:classes=0-4</i>) or only groups of classes "
                                "(<i>carol:coarse</i>); anything else gets a near-uniform \"not licensed\" answer that "
                                "names one fixed class whatever the image shows. The open model itself is not "
                                "changed."),
        this);
    intro->setWordWrap(true);
    m_licensees = new QLineEdit(QStringLiteral("alice; bob:classes=0-4; carol:coarse"), this);
    m_licensees->setToolTip(tr("Licensees separated by ';': NAME, NAME:classes=LIST or NAME:coarse[=GROUPS]."));
    m_pattern = new QComboBox(this);
    for (const ParameterSpec &spec : secureNetMethod().parameters())
        if (spec.name == "pattern")
            for (const ChoiceSpec &c : spec.choices) {
                m_pattern->addItem(QString::fromStdString(c.label), QString::fromStdString(c.id));
                m_pattern->setItemData(m_pattern->count() - 1, QString::fromStdString(c.help), Qt::ToolTipRole);
            }
    m_evalImages = new QSpinBox(this);
    m_evalImages->setRange(100, 1000000);
    m_evalImages->setSingleStep(1000);
    m_evalImages->setValue(2000);
    m_evalImages->setSuffix(tr(" images"));
    m_evalImages->setToolTip(tr("Test images the accuracies are measured on."));
    m_run->setText(tr("License a Copy"));
    m_save->setText(tr("Save Licensed Model and Registry…"));
    m_present->setToolTip(tr("The licence's story full screen, one step per page, for people who do not read code."));
    m_patternPicture = new QLabel(this);
    m_patternPicture->setAlignment(Qt::AlignCenter);
    m_table = new QTableWidget(0, 5, this);
    m_table->setHorizontalHeaderLabels({tr("Licensee"), tr("Sees"), tr("With the licence"),
        tr("The original, scored the same way"), tr("Difference (points)")});
    m_table->horizontalHeaderItem(2)->setToolTip(
        tr("Accuracy of the licensed model on the classes the licence answers (coarse: the right group)."));
    m_table->horizontalHeaderItem(3)->setToolTip(
        tr("The model before licensing on the same classes (coarse: the same groups): what the licensee would get "
           "without the lock."));
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->verticalHeader()->hide();
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionMode(QAbstractItemView::NoSelection);
    m_table->setVisible(false);

    auto *form = new QFormLayout;
    form->addRow(tr("&Licensees:"), m_licensees);
    form->addRow(tr("&Pattern:"), m_pattern);
    form->addRow(tr("&Fine-tuning:"), m_epochs);
    form->addRow(tr("&Training images:"), m_trainImages);
    form->addRow(tr("T&est images:"), m_evalImages);

    auto *gridBox =
        new QGroupBox(tr("What the licensed model answers for test images (green: right, red: wrong)"), this);
    m_grid = new QGridLayout(gridBox);
    auto *patternBox = new QGroupBox(tr("The first licensee's licence, amplified 3 x"), this);
    auto *patternLayout = new QVBoxLayout(patternBox);
    patternLayout->addWidget(m_patternPicture);
    auto *results = new QHBoxLayout;
    results->addWidget(gridBox, 1);
    results->addWidget(patternBox);

    auto *content = new QWidget(this);
    auto *layout = new QVBoxLayout(content);
    layout->addWidget(intro);
    layout->addLayout(form);
    layout->addLayout(buttonRow());
    layout->addWidget(m_status);
    layout->addWidget(m_summary);
    layout->addWidget(m_table);
    layout->addLayout(results);
    layout->addStretch(1);
    setContent(content);
    updateButtons();
}

LicencePage::~LicencePage() = default;

void LicencePage::setLicensees(const QString &text)
{
    m_licensees->setText(text);
}

void LicencePage::clearResult()
{
    m_result.reset();
    while (QLayoutItem *item = m_grid->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    m_patternPicture->clear();
    m_table->setRowCount(0);
    m_table->setVisible(false);
}

void LicencePage::present(int firstPage)
{
    if (!m_result || !m_document->test())
        return;
    PresentationView::present(licenceStory(*m_result, *m_document->test()), firstPage, this);
}

void LicencePage::run()
{
    if (isRunning() || !m_document->hasModel() || !m_document->hasDataset())
        return;
    const int classes = m_document->model().metadata().classCount;
    std::vector<Licensee> licensees;
    for (const QString &part : m_licensees->text().split(QLatin1Char(';'), Qt::SkipEmptyParts)) {
        auto l = parseLicensee(part.trimmed().toStdString(), classes);
        if (!l) {
            m_status->setText(QString::fromStdString(l.error()));
            return;
        }
        licensees.push_back(*l);
    }
    if (licensees.empty()) {
        m_status->setText(tr("Name at least one licensee, e.g. alice."));
        return;
    }
    LicenceSettings settings;
    settings.kind = m_pattern->currentData().toString().toStdString();
    settings.epochs = m_epochs->value();
    settings.trainImages = m_trainImages->value();
    const int64_t evalImages = m_evalImages->value();
    starting(tr("Fine-tuning a copy for %1 licensee(s): about two and a half minutes on LeNet-5, much longer on large "
                "networks.")
                 .arg(licensees.size()));
    m_job->start<LicenceDemo>(
        [model = m_document->model(), train = m_document->train(), test = m_document->test(), settings, licensees,
            evalImages, secretSeed = m_secretSeed](Progress &progress) -> Expected<LicenceDemo> {
            std::optional<LicenceSecret> owner, forgedSecret;
            if (secretSeed) {
                std::mt19937_64 rng(*secretSeed);
                owner = drawnSecret(rng);
                forgedSecret = drawnSecret(rng);
            }
            ProgressSpan training(progress, 0.0, 0.9, "licensing");
            auto lock = licenceLock(model, *train, settings, licensees, training, owner ? &*owner : nullptr);
            if (!lock)
                return Error{lock.error()};
            LicenceDemo demo;
            demo.lock = std::move(*lock);
            auto issued = issueLicence(demo.lock.registry, licensees.front().id);
            if (!issued)
                return Error{issued.error()};
            demo.licence = *Licence::of(*issued);
            const Dataset measured = firstImages(*test, evalImages), shown = firstImages(*test, 2 * kShown);
            const Model &licensed = demo.lock.licensed;
            const ModelMetadata &m = licensed.metadata();
            const InputStamp real = demo.licence.pattern(m.channels, m.height, m.width);
            demo.forged = licencePattern(
                forgedSecret ? *forgedSecret : randomSecret256(), settings, m.channels, m.height, m.width);
            if (!progress.advance(0.92, "measuring"))
                return Error{"cancelled"};
            auto original = accuracyOn(model, measured);
            auto each = measureLicensees(model, licensed, demo.lock.registry, measured);
            auto forged = accuracyWithStamp(licensed, demo.forged, measured);
            if (!original || !each || !forged)
                return Error{!original ? original.error() : !each ? each.error() : forged.error()};
            demo.images = measured.size();
            demo.original = *original;
            demo.licensees = std::move(*each);
            const LicenseeMeasure &first = demo.licensees.front(); // the registry keeps the order typed
            demo.originalOnScheme = first.original;
            demo.withLicence = first.check.licensed;
            demo.withoutLicence = first.check.withoutLicence;
            demo.withForged = *forged;
            demo.originalAnswers = answersOf(model, shown);
            demo.without = answersOf(licensed, shown);
            demo.with = answersOf(licensed, stamped(shown, real));
            demo.forgedAnswers = answersOf(licensed, stamped(shown, demo.forged));
            return demo;
        },
        [this](LicenceDemo demo) {
            ended(tr("Licensed in %1 s (%2 epochs over %3 training images).")
                      .arg(demo.lock.seconds, 0, 'f', 0)
                      .arg(demo.lock.epochs)
                      .arg(demo.lock.images));
            show(demo);
            m_result = std::move(demo);
            updateButtons();
            emit finished();
        });
    updateButtons();
}

void LicencePage::show(const LicenceDemo &demo)
{
    const Licensee &first = demo.licence.licensee;
    // A licence that answers some classes or groups is judged against the original scored the same way.
    const QString original = first.scheme == LicenceScheme::Full
        ? percent(demo.original)
        : tr("%1 (%2 scored as this licence is)").arg(percent(demo.original), percent(demo.originalOnScheme));
    m_summary->setText(
        tr("On %1 test images: the original %2; the licensed model with %3's licence (%4) %5, without a licence %6, "
           "with a forged licence %7 (random guess %8).")
            .arg(demo.images)
            .arg(original, QString::fromStdString(first.id).toHtmlEscaped(),
                QString::fromStdString(first.describe()).toHtmlEscaped(), percent(demo.withLicence),
                percent(demo.withoutLicence), percent(demo.withForged),
                percent(1.0 / std::max(2, demo.licence.classCount))));
    m_table->setRowCount(int(demo.licensees.size()));
    for (int r = 0; r < m_table->rowCount(); ++r) {
        const LicenseeMeasure &l = demo.licensees[size_t(r)];
        const bool known = l.original >= 0.0;
        auto twoDecimals = [](double x) { return QString::number(100.0 * x, 'f', 2) + QLatin1Char('%'); };
        const QString cells[] = {QString::fromStdString(l.licensee.id), QString::fromStdString(l.licensee.describe()),
            twoDecimals(l.check.licensed), known ? twoDecimals(l.original) : tr("–"),
            known ? QString::number(100.0 * (l.check.licensed - l.original), 'f', 2) : tr("–")};
        for (int c = 0; c < 5; ++c) {
            auto *item = new QTableWidgetItem(cells[c]);
            if (c >= 2)
                item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            m_table->setItem(r, c, item);
        }
    }
    m_table->setVisible(!demo.licensees.empty());
    m_table->setFixedHeight(m_table->horizontalHeader()->height() + 2 * m_table->frameWidth()
        + m_table->rowCount() * m_table->verticalHeader()->defaultSectionSize());
    while (QLayoutItem *item = m_grid->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    const auto test = m_document->test();
    if (!test)
        return;
    const auto &names = test->classNames;
    auto name = [&](int c) {
        return c >= 0 && size_t(c) < names.size() ? QString::fromStdString(names[size_t(c)]) : QString::number(c);
    };
    const ModelMetadata &m = demo.lock.licensed.metadata();
    const InputStamp real = demo.licence.pattern(m.channels, m.height, m.width);
    const Dataset shown = firstImages(*test, int64_t(demo.with.size()));
    const Dataset withLicence = stamped(shown, real), withForged = stamped(shown, demo.forged);
    struct Row
    {
        QString title;
        const Dataset *images;
        const std::vector<int32_t> *answers;
    };
    const Row rows[] = {{tr("Without a licence"), &shown, &demo.without},
        {tr("With %1's licence").arg(QString::fromStdString(first.id)), &withLicence, &demo.with},
        {tr("With a forged licence"), &withForged, &demo.forgedAnswers}};
    int row = 0;
    for (const Row &r : rows) {
        auto *title = new QLabel(QStringLiteral("<b>%1</b>").arg(r.title.toHtmlEscaped()));
        m_grid->addWidget(title, row++, 0, 1, kShown);
        for (int i = 0; i < kShown && size_t(i) < r.answers->size(); ++i) {
            auto *picture = new QLabel;
            picture->setPixmap(QPixmap::fromImage(
                datasetImage(*r.images, i).scaled(56, 56, Qt::KeepAspectRatio, Qt::FastTransformation)));
            picture->setAlignment(Qt::AlignCenter);
            const int truth = shown.labels[size_t(i)], answer = (*r.answers)[size_t(i)];
            auto *cell = new QLabel(QStringLiteral("<span style='color:%1'>%2</span>")
                                        .arg(answer == truth ? QStringLiteral("#15803d") : QStringLiteral("#b91c1c"),
                                            name(answer).toHtmlEscaped()));
            cell->setAlignment(Qt::AlignCenter);
            cell->setToolTip(tr("True class: %1").arg(name(truth)));
            m_grid->addWidget(picture, row, i);
            m_grid->addWidget(cell, row + 1, i);
        }
        row += 2;
    }
    m_patternPicture->setPixmap(
        QPixmap::fromImage(patternImage(real).scaled(168, 168, Qt::KeepAspectRatio, Qt::FastTransformation)));
    m_patternPicture->setToolTip(tr("Grey is unchanged; lighter and darker pixels are the licence, amplified 3 x."));
}

void LicencePage::save()
{
    if (!m_result || m_files->isRunning())
        return;
    LockResult result;
    result.locked = m_result->lock.licensed;
    result.key = m_result->lock.registry;
    saveModelAndRegistry(this, m_files, *m_document, result, tr("licensed"), QStringLiteral("-licensed.pt"),
        QStringLiteral("-registry.json"), [this](bool sealed, const QString &model, const QString &registry) {
            m_status->setText(sealed ? tr("Saved %1 and the password-protected registry %2. Issue licences with "
                                          "paramlock-cli licence issue.")
                                           .arg(model, registry)
                                     : tr("Saved %1 and %2 (the registry has no password).").arg(model, registry));
        });
    updateButtons();
}

} // namespace paramlock
