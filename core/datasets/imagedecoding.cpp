#include "imagedecoding.h"

namespace paramlock {

void appendImagePixels(const QImage &image, int channels, int width, int height, std::vector<uint8_t> &out)
{
    QImage scaled = image.size() == QSize(width, height)
        ? image
        : image.scaled(width, height, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
    if (channels == 1) {
        const QImage grey = scaled.convertToFormat(QImage::Format_Grayscale8);
        for (int y = 0; y < height; ++y) {
            const uchar *line = grey.constScanLine(y);
            out.insert(out.end(), line, line + width);
        }
        return;
    }
    const QImage rgb = scaled.convertToFormat(QImage::Format_RGB888);
    const size_t plane = size_t(width) * size_t(height);
    const size_t base = out.size();
    out.resize(base + 3 * plane);
    for (int y = 0; y < height; ++y) {
        const uchar *line = rgb.constScanLine(y);
        for (int x = 0; x < width; ++x)
            for (int c = 0; c < 3; ++c)
                out[base + size_t(c) * plane + size_t(y) * size_t(width) + size_t(x)] = line[3 * x + c];
    }
}

QImage datasetImage(const Dataset &data, int64_t index)
{
    QImage image(data.width, data.height, data.channels == 1 ? QImage::Format_Grayscale8 : QImage::Format_RGB888);
    const uint8_t *p = data.image(index);
    const int plane = data.width * data.height;
    for (int y = 0; y < data.height; ++y) {
        uchar *line = image.scanLine(y);
        for (int x = 0; x < data.width; ++x) {
            if (data.channels == 1)
                line[x] = p[y * data.width + x];
            else
                for (int c = 0; c < 3; ++c)
                    line[3 * x + c] = p[c * plane + y * data.width + x];
        }
    }
    return image;
}

} // namespace paramlock
