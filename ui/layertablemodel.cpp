#include "layertablemodel.h"

#include <QLocale>
#include <QStringList>

namespace paramlock {

LayerTableModel::LayerTableModel(QObject *parent) : QAbstractTableModel(parent)
{ }

void LayerTableModel::setLayers(const std::vector<LayerInfo> &layers)
{
    beginResetModel();
    m_layers = layers;
    m_checked.assign(layers.size(), false);
    endResetModel();
    emit selectionChanged();
}

std::vector<std::string> LayerTableModel::checkedLayers() const
{
    std::vector<std::string> names;
    for (size_t i = 0; i < m_layers.size(); ++i)
        if (m_checked[i])
            names.push_back(m_layers[i].name);
    return names;
}

void LayerTableModel::setChecked(const std::vector<std::string> &names)
{
    for (size_t i = 0; i < m_layers.size(); ++i)
        m_checked[i] = std::find(names.begin(), names.end(), m_layers[i].name) != names.end();
    if (!m_layers.empty())
        emit dataChanged(index(0, Name), index(rowCount() - 1, Name), {Qt::CheckStateRole});
    emit selectionChanged();
}

int LayerTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_layers.size());
}

int LayerTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant LayerTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const LayerInfo &l = m_layers[size_t(index.row())];
    if (role == Qt::CheckStateRole && index.column() == Name)
        return m_checked[size_t(index.row())] ? Qt::Checked : Qt::Unchecked;
    if (role == Qt::TextAlignmentRole && index.column() >= Parameters)
        return int(Qt::AlignRight | Qt::AlignVCenter);
    // The sort role carries numbers, so that columns sort by value, not by text.
    const bool sort = role == Qt::UserRole;
    if (role != Qt::DisplayRole && !sort)
        return {};
    switch (index.column()) {
    case Name:
        return QString::fromStdString(l.name);
    case Kind:
        return l.kind == "conv" ? tr("convolution") : tr("fully connected");
    case Shape: {
        QStringList parts;
        for (auto s : l.shape)
            parts << QString::number(s);
        return sort ? QVariant(qlonglong(l.count)) : QVariant(parts.join(QStringLiteral(" × ")));
    }
    case Parameters:
        return sort ? QVariant(qlonglong(l.count)) : QVariant(QLocale().toString(qlonglong(l.count)));
    case Min:
        return sort ? QVariant(double(l.min)) : QVariant(QString::number(double(l.min), 'f', 4));
    case Max:
        return sort ? QVariant(double(l.max)) : QVariant(QString::number(double(l.max), 'f', 4));
    case Mean:
        return sort ? QVariant(l.mean) : QVariant(QString::number(l.mean, 'f', 5));
    case Std:
        return sort ? QVariant(l.std) : QVariant(QString::number(l.std, 'f', 5));
    default:
        return {};
    }
}

QVariant LayerTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    static const char *names[] = {"Layer", "Type", "Shape", "Parameters", "Min", "Max", "Mean", "Std"};
    return section >= 0 && section < ColumnCount ? tr(names[section]) : QVariant();
}

Qt::ItemFlags LayerTableModel::flags(const QModelIndex &index) const
{
    Qt::ItemFlags f = QAbstractTableModel::flags(index);
    if (index.isValid() && index.column() == Name)
        f |= Qt::ItemIsUserCheckable;
    return f;
}

bool LayerTableModel::setData(const QModelIndex &index, const QVariant &value, int role)
{
    if (!index.isValid() || index.column() != Name || role != Qt::CheckStateRole)
        return false;
    m_checked[size_t(index.row())] = value.toInt() == Qt::Checked;
    emit dataChanged(index, index, {Qt::CheckStateRole});
    emit selectionChanged();
    return true;
}

} // namespace paramlock
