#pragma once
// One model's column in a panel: a header (colour, name, objective, grid) above the panel's
// own views. Subclasses redraw from the cached analysis in refresh(); this base maps the
// shared controls (layer, head, query) into the model's own depth, heads and grid.
#include <QLabel>
#include <QVBoxLayout>
#include <QWidget>

#include <optional>

#include "core/runtime/explorer.h"
#include "ui/workspace/comparison_model.h"

namespace vitscope::ui {

// Per-tap values (index = tap) at the taps the paper plots: depth k = tap 2k, 0 = the embedding.
std::vector<double> values_per_depth(const std::vector<double>& per_tap);

class PanelColumn : public QWidget {
  Q_OBJECT

 public:
  static constexpr int kWidth = 236;  // every column alike, so the same views line up

  PanelColumn(ComparisonModel& model, const ModelColumn& column, QWidget* parent = nullptr);

  QString modelId() const { return column_.id(); }
  const ModelColumn& modelColumn() const { return column_; }
  virtual void refresh() = 0;

  // The shared controls mapped into this model's depth, heads and grid.
  int block() const;                          // the shared layer, clamped to this model's depth
  int head() const;                           // the shared head (-1 = mean), clamped
  int grid() const { return column_.info.grid; }
  std::optional<GridCell> queryCell() const;  // nullopt: CLS
  runtime::Query query() const;
  // The residual-stream tap after the selected block's MLP (tap 2k = output of block k, 1-based).
  int featureTap() const { return 2 * (block() + 1); }

 protected:
  QVBoxLayout* body() { return body_; }
  // A line under the header: why nothing is shown yet, an error, or a warning ("" hides it).
  void setStatus(const QString& text, bool error = false);
  // The status every column shares: analysing, failed, no image, NaN warnings.
  // Returns the analysis when there is one to draw.
  const runtime::ImageAnalysis* analysisOrStatus();

  QString settingsText() const;              // "block 11/12 · mean of 4 heads\nquery patch row 4, column 3"
  static QLabel* caption(const QString& text = {});  // small grey text under a view

  ComparisonModel& model_;
  AppState& state_;

 private:
  ModelColumn column_;
  QVBoxLayout* body_;
  QLabel* status_;
};

}  // namespace vitscope::ui
