#pragma once

#include "parameters.h"

#include <QWidget>

#include <functional>
#include <map>
#include <string>
#include <vector>

class QButtonGroup;
class QFormLayout;
class QSpinBox;

namespace paramlock {

/**
 * A method's settings as a form, built from its parameter table: a spin box per number (with its range, unit and
 * help), a check box per flag, a combo box per choice, a radio group for the layer selection. Rows a mode does not
 * use are disabled; when the mode changes, the mode's own defaults are applied.
 */
class ParameterForm : public QWidget
{
    Q_OBJECT
public:
    explicit ParameterForm(QWidget *parent = nullptr);

    /** Rebuilds the form for a table; `modeDefaults` gives a mode's own defaults (may be empty). */
    void setParameters(const std::vector<ParameterSpec> &table,
        std::function<ParameterValues(const std::string &mode)> modeDefaults = {});
    /** A row that is not a parameter (the method selector, the seed), kept when the parameters change. */
    void addFixedRow(const QString &label, QWidget *widget, bool atTop);
    /** Where "Ticked in the table" takes its layer names from. */
    void setTickedLayers(std::function<std::vector<std::string>()> ticked) { m_ticked = std::move(ticked); }

    /** Every value that differs from its default (the rest stay at the method's defaults). */
    ParameterValues values() const;
    /** Sets one parameter from text as typed on a command line; false (and nothing changed) if it does not parse. */
    bool setText(const std::string &name, const std::string &text);
    void setValue(const std::string &name, const ParameterValue &value);
    /** The current mode ("" for a method without a "mode" choice). */
    std::string mode() const;
    /** The named layers are to come from the table, and none is ticked. */
    bool wantsTickedLayersButHasNone() const;

signals:
    void changed();

private:
    struct Row
    {
        ParameterSpec spec;
        QWidget *editor = nullptr;
        QWidget *label = nullptr;
        QButtonGroup *layerChoice = nullptr; ///< Layers: 0 all, 1 random, 2 ticked
        QSpinBox *randomCount = nullptr;
    };

    ParameterValue valueOf(const Row &row) const;
    void show(Row &row, const ParameterValue &value);
    void applyMode();

    QFormLayout *m_layout;
    int m_leadingRows = 0; ///< fixed rows above the parameters
    std::vector<Row> m_rows;
    std::function<ParameterValues(const std::string &)> m_modeDefaults;
    std::function<std::vector<std::string>()> m_ticked;
};

} // namespace paramlock
