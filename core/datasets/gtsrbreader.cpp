#include "dataset.h"
#include "imagedecoding.h"

#include <QDir>
#include <QFile>
#include <QImageReader>
#include <QString>
#include <QStringList>

#include <algorithm>
#include <iterator>

namespace paramlock {

namespace {

constexpr int kGtsrbClasses = 43;
constexpr int kGtsrbDefaultSide = 32;

const std::vector<std::string> &gtsrbClassNames()
{
    static const std::vector<std::string> names = {"Speed limit (20km/h)", "Speed limit (30km/h)",
        "Speed limit (50km/h)", "Speed limit (60km/h)", "Speed limit (70km/h)", "Speed limit (80km/h)",
        "End of speed limit (80km/h)", "Speed limit (100km/h)", "Speed limit (120km/h)", "No passing",
        "No passing for vehicles over 3.5 t", "Right-of-way at the next intersection", "Priority road", "Yield", "Stop",
        "No vehicles", "Vehicles over 3.5 t prohibited", "No entry", "General caution", "Dangerous curve to the left",
        "Dangerous curve to the right", "Double curve", "Bumpy road", "Slippery road", "Road narrows on the right",
        "Road work", "Traffic signals", "Pedestrians", "Children crossing", "Bicycles crossing", "Beware of ice/snow",
        "Wild animals crossing", "End of all speed and passing limits", "Turn right ahead", "Turn left ahead",
        "Ahead only", "Go straight or right", "Go straight or left", "Keep right", "Keep left", "Roundabout mandatory",
        "End of no passing", "End of no passing by vehicles over 3.5 t"};
    return names;
}

QString firstExistingDir(const QDir &root, const QStringList &candidates)
{
    for (const QString &c : candidates)
        if (root.exists(c) && QFileInfo(root.filePath(c)).isDir())
            return root.filePath(c);
    return {};
}

struct Annotation
{
    QString file;
    int x1 = 0, y1 = 0, x2 = 0, y2 = 0;
    int classId = -1;
};

// Official GT-*.csv: Filename;Width;Height;Roi.X1;Roi.Y1;Roi.X2;Roi.Y2;ClassId
Expected<std::vector<Annotation>> readAnnotations(const QString &csvPath)
{
    QFile file(csvPath);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text))
        return Error{
            "cannot open GTSRB annotations " + csvPath.toStdString() + ": " + file.errorString().toStdString()};
    const QStringList header = QString::fromUtf8(file.readLine()).trimmed().split(QLatin1Char(';'));
    const int col = int(header.indexOf(QLatin1String("ClassId")));
    const int fileCol = int(header.indexOf(QLatin1String("Filename")));
    // Columns are found by name, so a file with reordered columns reads correctly.
    const int roiCols[4] = {int(header.indexOf(QLatin1String("Roi.X1"))), int(header.indexOf(QLatin1String("Roi.Y1"))),
        int(header.indexOf(QLatin1String("Roi.X2"))), int(header.indexOf(QLatin1String("Roi.Y2")))};
    if (fileCol < 0 || *std::min_element(std::begin(roiCols), std::end(roiCols)) < 0)
        return Error{csvPath.toStdString()
            + ": not a GTSRB annotation file (expected a header with Filename and Roi.X1;Roi.Y1;Roi.X2;Roi.Y2)"};
    if (col < 0)
        return Error{csvPath.toStdString()
            + ": annotations have no ClassId column; the test set needs GT-final_test.csv with labels"};
    std::vector<Annotation> rows;
    int lineNo = 1;
    while (!file.atEnd()) {
        ++lineNo;
        const QString line = QString::fromUtf8(file.readLine()).trimmed();
        if (line.isEmpty())
            continue;
        const QStringList f = line.split(QLatin1Char(';'));
        if (f.size() < header.size())
            return Error{csvPath.toStdString() + ":" + std::to_string(lineNo) + ": expected "
                + std::to_string(header.size()) + " fields, found " + std::to_string(f.size())};
        Annotation a;
        a.file = f[fileCol];
        bool ok[5] = {};
        a.x1 = f[roiCols[0]].toInt(&ok[0]);
        a.y1 = f[roiCols[1]].toInt(&ok[1]);
        a.x2 = f[roiCols[2]].toInt(&ok[2]);
        a.y2 = f[roiCols[3]].toInt(&ok[3]);
        a.classId = f[col].toInt(&ok[4]);
        for (bool b : ok)
            if (!b)
                return Error{csvPath.toStdString() + ":" + std::to_string(lineNo) + ": a number field is not a number"};
        if (a.classId < 0 || a.classId >= kGtsrbClasses)
            return Error{csvPath.toStdString() + ":" + std::to_string(lineNo) + ": ClassId " + std::to_string(a.classId)
                + " is outside 0-42"};
        rows.push_back(a);
    }
    return rows;
}

Expected<void> appendAnnotated(const QDir &dir, const std::vector<Annotation> &rows, int side, Dataset &data)
{
    for (const Annotation &a : rows) {
        const QString path = dir.filePath(a.file);
        QImageReader reader(path);
        const QImage image = reader.read();
        if (image.isNull())
            return Error{"cannot decode GTSRB image " + path.toStdString() + ": " + reader.errorString().toStdString()};
        // ROI corners are inclusive in the official annotations.
        QRect roi(QPoint(a.x1, a.y1), QPoint(a.x2, a.y2));
        roi = roi.intersected(image.rect());
        const QImage crop = roi.isValid() && !roi.isEmpty() ? image.copy(roi) : image;
        appendImagePixels(crop, 3, side, side, data.pixels);
        data.labels.push_back(a.classId);
    }
    return {};
}

} // namespace

Expected<Dataset> readGtsrb(const std::string &rootPath, Split split, const DatasetOptions &options)
{
    const QDir root(QString::fromStdString(rootPath));
    if (!root.exists())
        return Error{"GTSRB folder not found: " + rootPath};
    const int side = options.width > 0 ? options.width : kGtsrbDefaultSide;

    Dataset data;
    data.name = "gtsrb";
    data.channels = 3;
    data.height = side;
    data.width = side;
    data.classCount = kGtsrbClasses;
    data.classNames = gtsrbClassNames();
    data.normalization = {{0.3403f, 0.3121f, 0.3214f}, {0.2724f, 0.2608f, 0.2669f}};

    if (split == Split::Train) {
        const QString images = firstExistingDir(
            root, {QStringLiteral("Final_Training/Images"), QStringLiteral("GTSRB/Final_Training/Images")});
        if (images.isEmpty())
            return Error{rootPath + ": no Final_Training/Images folder (official GTSRB layout expected)"};
        const QStringList classDirs = QDir(images).entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
        if (classDirs.isEmpty())
            return Error{images.toStdString() + ": no class folders (00000 ... 00042)"};
        for (const QString &classDir : classDirs) {
            const QDir dir(QDir(images).filePath(classDir));
            const QString csv = dir.filePath(QStringLiteral("GT-%1.csv").arg(classDir));
            auto rows = readAnnotations(csv);
            if (!rows)
                return Error{rows.error()};
            if (auto ok = appendAnnotated(dir, *rows, side, data); !ok)
                return Error{ok.error()};
        }
        data.source = images.toStdString();
    } else {
        const QString images =
            firstExistingDir(root, {QStringLiteral("Final_Test/Images"), QStringLiteral("GTSRB/Final_Test/Images")});
        if (images.isEmpty())
            return Error{rootPath + ": no Final_Test/Images folder (official GTSRB layout expected)"};
        const QStringList csvCandidates = {QDir(images).filePath(QStringLiteral("GT-final_test.csv")),
            root.filePath(QStringLiteral("GT-final_test.csv")),
            root.filePath(QStringLiteral("GTSRB/GT-final_test.csv"))};
        QString csv;
        for (const QString &c : csvCandidates)
            if (QFileInfo::exists(c)) {
                csv = c;
                break;
            }
        if (csv.isEmpty())
            return Error{rootPath + ": GT-final_test.csv (the labelled test annotations) not found"};
        auto rows = readAnnotations(csv);
        if (!rows)
            return Error{rows.error()};
        if (auto ok = appendAnnotated(QDir(images), *rows, side, data); !ok)
            return Error{ok.error()};
        data.source = images.toStdString();
    }
    if (data.labels.empty())
        return Error{rootPath + ": the GTSRB annotations list no images"};
    return data;
}

} // namespace paramlock
