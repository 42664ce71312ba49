#include "parameterform.h"

#include <QButtonGroup>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QRadioButton>
#include <QSpinBox>

#include <climits>
#include <cmath>

namespace paramlock {

namespace {

QString labelOf(const ParameterSpec &spec)
{
    QString text = QString::fromStdString(spec.label);
    if (!spec.unit.empty())
        text += QStringLiteral(" (%1)").arg(QString::fromStdString(spec.unit));
    return text;
}

int clampToInt(double v)
{
    return int(std::clamp(v, double(INT_MIN), double(INT_MAX)));
}

} // namespace

ParameterForm::ParameterForm(QWidget *parent) : QWidget(parent), m_layout(new QFormLayout(this))
{
    m_layout->setContentsMargins(0, 0, 0, 0);
}

void ParameterForm::addFixedRow(const QString &label, QWidget *widget, bool atTop)
{
    if (atTop)
        m_layout->insertRow(m_leadingRows++, label, widget);
    else
        m_layout->addRow(label, widget);
}

void ParameterForm::setParameters(
    const std::vector<ParameterSpec> &table, std::function<ParameterValues(const std::string &)> modeDefaults)
{
    for (size_t i = 0; i < m_rows.size(); ++i)
        m_layout->removeRow(m_leadingRows);
    m_rows.clear();
    m_modeDefaults = std::move(modeDefaults);
    for (const ParameterSpec &spec : table) {
        Row row;
        row.spec = spec;
        const QString help = QString::fromStdString(spec.help);
        switch (spec.type) {
        case ParameterType::Integer: {
            auto *box = new QSpinBox(this);
            box->setRange(clampToInt(spec.minimum), clampToInt(spec.maximum));
            if (!spec.zeroMeans.empty())
                box->setSpecialValueText(QString::fromStdString(spec.zeroMeans));
            connect(box, &QSpinBox::valueChanged, this, &ParameterForm::changed);
            row.editor = box;
            break;
        }
        case ParameterType::Real: {
            auto *box = new QDoubleSpinBox(this);
            box->setDecimals(3);
            box->setRange(spec.minimum, spec.maximum);
            box->setSingleStep(spec.maximum - spec.minimum > 10.0 ? 1.0 : 0.01);
            if (!spec.zeroMeans.empty())
                box->setSpecialValueText(QString::fromStdString(spec.zeroMeans));
            connect(box, &QDoubleSpinBox::valueChanged, this, &ParameterForm::changed);
            row.editor = box;
            break;
        }
        case ParameterType::Flag: {
            auto *box = new QCheckBox(this);
            connect(box, &QCheckBox::toggled, this, &ParameterForm::changed);
            row.editor = box;
            break;
        }
        case ParameterType::Choice: {
            auto *box = new QComboBox(this);
            for (const ChoiceSpec &c : spec.choices) {
                box->addItem(QString::fromStdString(c.label), QString::fromStdString(c.id));
                box->setItemData(box->count() - 1, QString::fromStdString(c.help), Qt::ToolTipRole);
            }
            connect(box, &QComboBox::currentIndexChanged, this, [this, name = spec.name] {
                if (name == "mode")
                    applyMode();
                emit changed();
            });
            row.editor = box;
            break;
        }
        case ParameterType::Layers: {
            auto *box = new QWidget(this);
            auto *layout = new QHBoxLayout(box);
            layout->setContentsMargins(0, 0, 0, 0);
            row.layerChoice = new QButtonGroup(box);
            auto *all = new QRadioButton(tr("All"), box);
            auto *random = new QRadioButton(tr("Random:"), box);
            auto *ticked = new QRadioButton(tr("Ticked in the table"), box);
            row.randomCount = new QSpinBox(box);
            row.randomCount->setRange(1, 1000);
            row.randomCount->setToolTip(tr("k layers drawn with the seed"));
            row.layerChoice->addButton(all, 0);
            row.layerChoice->addButton(random, 1);
            row.layerChoice->addButton(ticked, 2);
            all->setChecked(true);
            layout->addWidget(all);
            layout->addWidget(random);
            layout->addWidget(row.randomCount);
            layout->addWidget(ticked);
            layout->addStretch();
            connect(row.layerChoice, &QButtonGroup::idClicked, this, &ParameterForm::changed);
            row.editor = box;
            break;
        }
        }
        row.editor->setToolTip(help);
        row.editor->setObjectName(QString::fromStdString(spec.name));
        auto *label = new QLabel(labelOf(spec), this);
        label->setToolTip(help);
        row.label = label;
        m_layout->insertRow(m_leadingRows + int(m_rows.size()), label, row.editor);
        m_rows.push_back(row);
        show(m_rows.back(), spec.defaultValue);
    }
    // Every mode's own defaults once, the current mode's last: the rows another mode uses show its values too.
    const std::string current = mode();
    for (const Row &row : m_rows)
        if (row.spec.name == "mode" && m_modeDefaults)
            for (const ChoiceSpec &c : row.spec.choices)
                if (c.id != current) {
                    const ParameterValues defaults = m_modeDefaults(c.id);
                    for (const auto &[name, value] : defaults.all())
                        setValue(name, value);
                }
    applyMode();
}

ParameterValue ParameterForm::valueOf(const Row &row) const
{
    switch (row.spec.type) {
    case ParameterType::Integer:
        return int64_t(static_cast<QSpinBox *>(row.editor)->value());
    case ParameterType::Real:
        return static_cast<QDoubleSpinBox *>(row.editor)->value();
    case ParameterType::Flag:
        return static_cast<QCheckBox *>(row.editor)->isChecked();
    case ParameterType::Choice:
        return static_cast<QComboBox *>(row.editor)->currentData().toString().toStdString();
    case ParameterType::Layers: {
        LayerSelection s;
        switch (row.layerChoice->checkedId()) {
        case 0:
            s.kind = LayerSelection::Kind::All;
            break;
        case 1:
            s.kind = LayerSelection::Kind::Random;
            s.random = row.randomCount->value();
            break;
        default:
            s.kind = LayerSelection::Kind::Named;
            if (m_ticked)
                s.names = m_ticked();
        }
        return s;
    }
    }
    return {};
}

void ParameterForm::show(Row &row, const ParameterValue &value)
{
    switch (row.spec.type) {
    case ParameterType::Integer:
        static_cast<QSpinBox *>(row.editor)->setValue(clampToInt(double(integerOf(value))));
        break;
    case ParameterType::Real:
        static_cast<QDoubleSpinBox *>(row.editor)->setValue(realOf(value));
        break;
    case ParameterType::Flag:
        static_cast<QCheckBox *>(row.editor)->setChecked(std::get<bool>(value));
        break;
    case ParameterType::Choice: {
        auto *box = static_cast<QComboBox *>(row.editor);
        box->setCurrentIndex(std::max(0, box->findData(QString::fromStdString(std::get<std::string>(value)))));
        break;
    }
    case ParameterType::Layers: {
        const LayerSelection &s = std::get<LayerSelection>(value);
        if (s.kind == LayerSelection::Kind::Random) {
            row.randomCount->setValue(s.random);
            row.layerChoice->button(1)->setChecked(true);
        } else if (s.kind == LayerSelection::Kind::Named) {
            row.layerChoice->button(2)->setChecked(true);
        } else if (s.kind == LayerSelection::Kind::All) {
            row.layerChoice->button(0)->setChecked(true);
        }
        break;
    }
    }
}

void ParameterForm::applyMode()
{
    const std::string current = mode();
    if (m_modeDefaults) {
        const ParameterValues defaults = m_modeDefaults(current);
        for (const auto &[name, value] : defaults.all())
            setValue(name, value);
    }
    for (Row &row : m_rows) {
        const bool used = row.spec.usedIn(current);
        row.editor->setEnabled(used);
        row.label->setEnabled(used);
    }
}

ParameterValues ParameterForm::values() const
{
    ParameterValues out;
    for (const Row &row : m_rows)
        out.set(row.spec.name, valueOf(row));
    return out;
}

bool ParameterForm::setText(const std::string &name, const std::string &text)
{
    for (Row &row : m_rows)
        if (row.spec.name == name) {
            auto value = parseParameter(row.spec, text);
            if (!value)
                return false;
            show(row, *value);
            if (name == "mode")
                applyMode();
            return true;
        }
    return false;
}

void ParameterForm::setValue(const std::string &name, const ParameterValue &value)
{
    for (Row &row : m_rows)
        if (row.spec.name == name)
            show(row, value);
}

std::string ParameterForm::mode() const
{
    for (const Row &row : m_rows)
        if (row.spec.name == "mode" && row.spec.type == ParameterType::Choice)
            return std::get<std::string>(valueOf(row));
    return {};
}

bool ParameterForm::wantsTickedLayersButHasNone() const
{
    for (const Row &row : m_rows)
        if (row.spec.type == ParameterType::Layers && row.layerChoice->checkedId() == 2)
            return !m_ticked || m_ticked().empty();
    return false;
}

} // namespace paramlock
