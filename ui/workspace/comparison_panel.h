#pragma once
// A panel of the comparison workspace: a one-line explanation (what it shows, what the paper
// found), one column per model, and plots shared by all models underneath. Subclasses provide
// the column widget, the plots, the numbers behind the figure and the CLI metrics.
//
// Panels redraw from cached analyses only; a hidden panel just remembers that it is stale and
// redraws when shown (or when exported).
#include <QHBoxLayout>
#include <QJsonObject>
#include <QLabel>
#include <QList>
#include <QWidget>

#include "ui/export/figure_renderer.h"
#include "ui/workspace/comparison_model.h"
#include "ui/workspace/panel_column.h"

namespace vitscope::ui {

class ComparisonPanel : public QWidget {
  Q_OBJECT

 public:
  ComparisonPanel(ComparisonModel& model, const QString& title, const QString& explanation, QWidget* parent = nullptr);

  QString title() const { return title_; }
  QList<PanelColumn*> columns() const { return columns_; }
  // What an export draws: the explanation above the columns and the plots.
  FigureSection figure();
  void ensureFresh();

  // The numbers behind the figure: {"panel", "image", "settings", "models": [{…}, …]}.
  QJsonObject data();
  // The `vitscope-cli analyze --metrics` names that reproduce this panel (empty: none does).
  virtual QStringList cliMetrics() const = 0;
  // The whole vitscope-cli line that recomputes this panel for these models and image ("": none):
  // `analyze` with cliMetrics() unless a panel has a command of its own.
  virtual QString cliCommand(const QStringList& model_paths, const QString& image_path) const;

 public slots:
  void requestRefresh();

 protected:
  virtual PanelColumn* createColumn(const ModelColumn& column) = 0;
  virtual void refreshPlots() {}
  // The numbers of one model ({} when it has no analysis yet).
  virtual QJsonObject columnData(const PanelColumn& column) = 0;
  QHBoxLayout* plotsLayout() { return plots_layout_; }
  // Controls of the panel's own (not drawn in exports), between the explanation and the columns.
  void addToolRow(QWidget* row);
  void refreshColumn(const QString& model_id);
  void showEvent(QShowEvent* e) override;

  ComparisonModel& model_;
  AppState& state_;

 private:
  void rebuildColumns();
  void refreshNow();

  QString title_;
  QLabel* explanation_;
  QWidget* content_;  // columns above plots, inside the scroll area
  QWidget* columns_strip_;
  QHBoxLayout* columns_layout_;
  QWidget* plots_strip_;
  QHBoxLayout* plots_layout_;
  QList<PanelColumn*> columns_;
  bool stale_ = true;
};

}  // namespace vitscope::ui
