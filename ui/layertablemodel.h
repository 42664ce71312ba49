#pragma once

#include "model.h"

#include <QAbstractTableModel>

#include <vector>

namespace paramlock {

/** The model's conv/FC layers, sortable through a proxy, with a tick for the encrypted set. */
class LayerTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column { Name, Kind, Shape, Parameters, Min, Max, Mean, Std, ColumnCount };

    explicit LayerTableModel(QObject *parent = nullptr);

    void setLayers(const std::vector<LayerInfo> &layers);
    const std::vector<LayerInfo> &layers() const { return m_layers; }
    std::vector<std::string> checkedLayers() const;
    void setChecked(const std::vector<std::string> &names);

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex &index) const override;
    bool setData(const QModelIndex &index, const QVariant &value, int role = Qt::EditRole) override;

signals:
    void selectionChanged();

private:
    std::vector<LayerInfo> m_layers;
    std::vector<bool> m_checked;
};

} // namespace paramlock
