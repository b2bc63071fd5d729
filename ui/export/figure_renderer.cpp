#include "ui/export/figure_renderer.h"

#include <qcustomplot.h>

#include <QFileInfo>
#include <QLayout>
#include <QPdfWriter>
#include <QScrollArea>
#include <QSvgGenerator>
#include <QTextDocument>

#include <cmath>

namespace vitscope::ui {

namespace {

constexpr double kLogicalDpi = 96.0;

QSize natural_size(QWidget* w) { return w->sizeHint().expandedTo(w->minimumSizeHint()); }

// Lays out a widget tree now: hidden widgets otherwise postpone their layout (and keep stale
// size hints) until they are shown.
void lay_out(QWidget* root) {
  QList<QWidget*> all{root};
  all += root->findChildren<QWidget*>();  // parents before their children
  for (auto* w : all)
    if (w->layout()) {
      w->layout()->invalidate();
      w->layout()->activate();
    }
}

// Gives a widget tree its natural size for the time of an export, and lays it out at once. A
// scroll area that sizes its widget to the viewport is told to let go meanwhile, and the root's
// window-coloured background is left out: figures are drawn on white.
class NaturalSize {
 public:
  explicit NaturalSize(QWidget* root) : root_(root), old_(root->size()), fills_(root->autoFillBackground()) {
    root_->setAutoFillBackground(false);
    QWidget* viewport = root->parentWidget();
    area_ = viewport ? qobject_cast<QScrollArea*>(viewport->parentWidget()) : nullptr;
    if (area_ && area_->widget() == root && area_->widgetResizable()) area_->setWidgetResizable(false);
    else area_ = nullptr;
    root_->resize(natural_size(root_));
    lay_out(root_);
  }
  ~NaturalSize() {
    root_->setAutoFillBackground(fills_);
    root_->resize(old_);
    if (area_) area_->setWidgetResizable(true);
    lay_out(root_);
  }

 private:
  QWidget* root_;
  QSize old_;
  bool fills_;
  QScrollArea* area_;
};

void render_widget(QCPPainter& painter, QWidget* widget, QPoint offset) {
  if (auto* plot = qobject_cast<QCustomPlot*>(widget)) {
    painter.save();
    painter.translate(offset);
    plot->toPainter(&painter, plot->width(), plot->height());
    painter.restore();
    return;
  }
  widget->render(&painter, offset, QRegion(), QWidget::RenderFlags());  // the widget without children
  for (auto* child : widget->findChildren<QWidget*>(Qt::FindDirectChildrenOnly))
    if (!child->isHidden() && !child->isWindow()) render_widget(painter, child, offset + child->pos());
}

std::unique_ptr<QTextDocument> caption_document(const QString& html, int width) {
  auto doc = std::make_unique<QTextDocument>();
  doc->setDocumentMargin(6);
  doc->setHtml(html);
  doc->setTextWidth(width);
  return doc;
}

QSize stacked_size(const QList<FigureSection>& sections) {
  QSize size(0, 0);
  for (const auto& s : sections) {
    lay_out(s.root);  // a hidden panel's size hints are only current after this
    const QSize root = natural_size(s.root);
    const int caption = s.caption.isEmpty() ? 0 : static_cast<int>(std::ceil(caption_document(s.caption, root.width())->size().height()));
    size = QSize(std::max(size.width(), root.width()), size.height() + caption + root.height());
  }
  return size;
}

void render_stack(QCPPainter& painter, const QList<FigureSection>& sections) {
  painter.fillRect(QRect(QPoint(0, 0), stacked_size(sections)), Qt::white);
  int y = 0;
  for (const auto& s : sections) {
    NaturalSize natural(s.root);
    if (!s.caption.isEmpty()) {
      auto doc = caption_document(s.caption, s.root->width());
      painter.save();
      painter.translate(0, y);
      doc->drawContents(&painter);
      painter.restore();
      y += static_cast<int>(std::ceil(doc->size().height()));
    }
    render_widget(painter, s.root, QPoint(0, y));
    y += s.root->height();
  }
}

}  // namespace

std::optional<FigureFormat> figure_format_for(const QString& path) {
  const QString suffix = QFileInfo(path).suffix().toLower();
  if (suffix == "png") return FigureFormat::Png;
  if (suffix == "svg") return FigureFormat::Svg;
  if (suffix == "pdf") return FigureFormat::Pdf;
  return std::nullopt;
}

QSize figure_size(const QList<FigureSection>& sections) { return stacked_size(sections); }

QImage render_figure_image(const QList<FigureSection>& sections, int dpi) {
  const double scale = dpi / kLogicalDpi;
  const QSize size = stacked_size(sections);
  QImage image(std::lround(size.width() * scale), std::lround(size.height() * scale), QImage::Format_RGB32);
  image.fill(Qt::white);
  const int dots_per_meter = static_cast<int>(std::lround(dpi / 0.0254));
  image.setDotsPerMeterX(dots_per_meter);
  image.setDotsPerMeterY(dots_per_meter);
  QCPPainter painter(&image);
  painter.setRenderHint(QPainter::TextAntialiasing);
  painter.scale(scale, scale);
  render_stack(painter, sections);
  return image;
}

bool save_figure(const QList<FigureSection>& sections, const QString& path, FigureFormat format, int dpi, QString* error) {
  auto fail = [&](const QString& why) {
    if (error) *error = why;
    return false;
  };
  if (sections.isEmpty()) return fail(QObject::tr("nothing to export"));
  const QSize size = stacked_size(sections);
  // SVG and PDF: QCustomPlot draws its plots as vectors, uncached, into the device.
  auto paint_vector = [&](QPaintDevice& device) {
    QCPPainter painter;
    if (!painter.begin(&device)) return false;
    painter.setMode(QCPPainter::pmVectorized);
    painter.setMode(QCPPainter::pmNoCaching);
    render_stack(painter, sections);
    painter.end();
    return true;
  };
  switch (format) {
    case FigureFormat::Png: {
      if (!render_figure_image(sections, dpi).save(path, "PNG")) return fail(QObject::tr("could not write %1").arg(path));
      return true;
    }
    case FigureFormat::Svg: {
      QSvgGenerator svg;
      svg.setFileName(path);
      svg.setSize(size);
      svg.setViewBox(QRect(QPoint(0, 0), size));
      svg.setResolution(static_cast<int>(kLogicalDpi));
      svg.setTitle(QStringLiteral("ViTScope"));
      return paint_vector(svg) || fail(QObject::tr("could not write %1").arg(path));
    }
    case FigureFormat::Pdf: {
      QPdfWriter pdf(path);
      pdf.setResolution(static_cast<int>(kLogicalDpi));
      pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
      pdf.setPageSize(QPageSize(QSizeF(size) * (72.0 / kLogicalDpi), QPageSize::Point));
      pdf.setTitle(QStringLiteral("ViTScope"));
      pdf.setCreator(QStringLiteral("ViTScope"));
      return paint_vector(pdf) || fail(QObject::tr("could not write %1").arg(path));
    }
  }
  return fail(QObject::tr("unknown format"));
}

}  // namespace vitscope::ui
