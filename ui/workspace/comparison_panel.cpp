#include "ui/workspace/comparison_panel.h"

#include <QJsonArray>
#include <QScrollArea>
#include <QVBoxLayout>

#include "ui/export/cli_command.h"

namespace vitscope::ui {

ComparisonPanel::ComparisonPanel(ComparisonModel& model, const QString& title, const QString& explanation, QWidget* parent)
    : QWidget(parent), model_(model), state_(model.state()), title_(title) {
  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(0, 0, 0, 0);
  explanation_ = new QLabel(explanation);
  explanation_->setWordWrap(true);
  explanation_->setTextFormat(Qt::RichText);
  explanation_->setContentsMargins(8, 6, 8, 6);
  explanation_->setAutoFillBackground(true);
  explanation_->setBackgroundRole(QPalette::AlternateBase);
  outer->addWidget(explanation_);

  content_ = new QWidget;
  auto* content_layout = new QVBoxLayout(content_);
  content_layout->setContentsMargins(4, 4, 4, 4);
  columns_strip_ = new QWidget;
  columns_layout_ = new QHBoxLayout(columns_strip_);
  columns_layout_->setContentsMargins(0, 0, 0, 0);
  columns_layout_->setSpacing(10);
  columns_layout_->addStretch(1);
  plots_strip_ = new QWidget;
  plots_layout_ = new QHBoxLayout(plots_strip_);
  plots_layout_->setContentsMargins(0, 0, 0, 0);
  content_layout->addWidget(columns_strip_);
  content_layout->addWidget(plots_strip_);
  content_layout->addStretch(1);
  auto* scroll = new QScrollArea;
  scroll->setWidget(content_);
  scroll->setWidgetResizable(true);
  scroll->setFrameShape(QFrame::NoFrame);
  outer->addWidget(scroll, 1);

  connect(&model_, &ComparisonModel::columnsChanged, this, &ComparisonPanel::rebuildColumns);
  connect(&model_, &ComparisonModel::analysisChanged, this, &ComparisonPanel::refreshColumn);
  connect(&state_, &AppState::layerChanged, this, &ComparisonPanel::requestRefresh);
}

void ComparisonPanel::addToolRow(QWidget* row) {
  static_cast<QVBoxLayout*>(layout())->insertWidget(1, row);
}

QString ComparisonPanel::cliCommand(const QStringList& model_paths, const QString& image_path) const {
  if (cliMetrics().isEmpty()) return {};
  return cli_command(model_paths, image_path, cliMetrics(), QStringLiteral("vitscope-%1").arg(title_.toLower()));
}

FigureSection ComparisonPanel::figure() {
  ensureFresh();
  return {explanation_->text(), content_};
}

void ComparisonPanel::rebuildColumns() {
  qDeleteAll(columns_);
  columns_.clear();
  for (const auto& c : model_.columns()) {
    auto* column = createColumn(c);
    columns_layout_->insertWidget(columns_.size(), column);
    columns_ << column;
  }
  stale_ = true;
  requestRefresh();
}

void ComparisonPanel::refreshColumn(const QString& model_id) {
  if (!isVisible()) {
    stale_ = true;
    return;
  }
  for (auto* c : columns_)
    if (c->modelId() == model_id) c->refresh();
  refreshPlots();
}

void ComparisonPanel::requestRefresh() {
  if (isVisible()) refreshNow();
  else stale_ = true;
}

void ComparisonPanel::ensureFresh() {
  if (stale_) refreshNow();
}

void ComparisonPanel::refreshNow() {
  stale_ = false;
  for (auto* c : columns_) c->refresh();
  refreshPlots();
}

void ComparisonPanel::showEvent(QShowEvent* e) {
  QWidget::showEvent(e);
  ensureFresh();
}

QJsonObject ComparisonPanel::data() {
  ensureFresh();
  QJsonArray models;
  for (auto* c : columns_) {
    const auto& info = c->modelColumn().info;
    QJsonObject m{{"name", QString::fromStdString(info.name)},
                  {"path", QString::fromStdString(info.path)},
                  {"objective", QString::fromStdString(info.objective_label)},
                  {"method", QString::fromStdString(info.method)},
                  {"image_size", info.image_size},
                  {"grid", info.grid}};
    const QJsonObject values = columnData(*c);
    for (auto it = values.begin(); it != values.end(); ++it) m.insert(it.key(), it.value());
    models.append(m);
  }
  const auto& q = state_.query();
  return QJsonObject{{"panel", title_},
                     {"image", state_.imageName()},
                     {"settings",
                      QJsonObject{{"block", state_.layer() + 1},
                                  {"head", state_.head() < 0 ? QJsonValue("mean") : QJsonValue(state_.head() + 1)},
                                  {"query", q.cls ? QJsonValue("CLS")
                                                  : QJsonValue(QJsonArray{q.relative.x(), q.relative.y()})},
                                  {"mask_ratio", state_.maskRatio()},
                                  {"mask_seed", state_.maskSeed()}}},
                     {"models", models}};
}

}  // namespace vitscope::ui
