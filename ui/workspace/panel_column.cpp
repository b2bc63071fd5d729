#include "ui/workspace/panel_column.h"

#include <algorithm>
#include <cmath>

#include "ui/plots/plot_style.h"

namespace vitscope::ui {

std::vector<double> values_per_depth(const std::vector<double>& per_tap) {
  std::vector<double> out;
  for (size_t t = 0; t < per_tap.size(); t += 2) out.push_back(per_tap[t]);
  return out;
}

PanelColumn::PanelColumn(ComparisonModel& model, const ModelColumn& column, QWidget* parent)
    : QWidget(parent), model_(model), state_(model.state()), column_(column) {
  setFixedWidth(static_cast<int>(std::lround(kWidth * plot_style().view_scale)));
  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(6, 4, 6, 4);
  outer->setSpacing(4);
  const auto& info = column.info;
  auto* name = new QLabel(QStringLiteral("<b>%1</b>").arg(column.name().toHtmlEscaped()));
  name->setTextFormat(Qt::RichText);
  // The model's colour as a bar on the left: the same colour as its line in every plot.
  name->setStyleSheet(QStringLiteral("border-left: 6px solid %1; padding-left: 6px;").arg(column.color.name()));
  // Always two lines, so the views of all columns start at the same height.
  QString what = QString::fromStdString(info.objective_label);
  if (!info.method.empty()) what += QStringLiteral(" · ") + QString::fromStdString(info.method);
  auto* summary = new QLabel(what + "\n" + tr("%1 px input, %2×%2 patches").arg(info.image_size).arg(info.grid));
  summary->setForegroundRole(QPalette::PlaceholderText);
  summary->setContentsMargins(12, 0, 0, 0);
  summary->setToolTip(tr("Pre-training objective, method and the model's own input size and patch grid."));
  status_ = new QLabel;
  status_->setWordWrap(true);
  status_->hide();
  body_ = new QVBoxLayout;
  body_->setSpacing(3);
  outer->addWidget(name);
  outer->addWidget(summary);
  outer->addWidget(status_);
  outer->addLayout(body_);
  outer->addStretch(1);
}

void PanelColumn::setStatus(const QString& text, bool error) {
  status_->setText(text);
  status_->setStyleSheet(error ? QStringLiteral("color: #b00020;") : QString());
  status_->setForegroundRole(error ? QPalette::WindowText : QPalette::PlaceholderText);
  status_->setVisible(!text.isEmpty());
}

const runtime::ImageAnalysis* PanelColumn::analysisOrStatus() {
  const auto* a = model_.analysis(modelId());
  if (!a) {
    const QString status = model_.analysisStatus(modelId());
    if (state_.imageId().isEmpty()) setStatus(tr("Choose or drop an image."));
    else setStatus(status.isEmpty() ? tr("Analysing…") : status, status.startsWith(tr("Analysis failed")));
    return nullptr;
  }
  QStringList warnings;
  for (const auto& w : a->warnings()) warnings << QString::fromStdString(w);
  setStatus(warnings.join('\n'), !warnings.isEmpty());
  return a;
}

int PanelColumn::block() const { return std::clamp(state_.layer(), 0, std::max(0, column_.info.depth - 1)); }

int PanelColumn::head() const { return state_.head() < column_.info.heads ? state_.head() : column_.info.heads - 1; }

std::optional<GridCell> PanelColumn::queryCell() const { return state_.queryCell(column_.info.grid); }

runtime::Query PanelColumn::query() const {
  const auto cell = queryCell();
  return cell ? runtime::Query::patch(cell->row, cell->col) : runtime::Query::cls_token();
}

QString PanelColumn::settingsText() const {
  QString text = tr("block %1/%2").arg(block() + 1).arg(column_.info.depth);
  text += head() < 0 ? tr(" · mean of %1 heads").arg(column_.info.heads) : tr(" · head %1/%2").arg(head() + 1).arg(column_.info.heads);
  const auto cell = queryCell();
  text += cell ? tr("\nquery patch row %1, column %2").arg(cell->row).arg(cell->col) : tr("\nquery: CLS token");
  return text;
}

QLabel* PanelColumn::caption(const QString& text) {
  // No word wrap: wrapped labels get too little height when a figure is laid out at its natural
  // size. Callers break long captions into lines themselves.
  auto* label = new QLabel(text);
  label->setForegroundRole(QPalette::PlaceholderText);
  return label;
}

}  // namespace vitscope::ui
