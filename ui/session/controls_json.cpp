#include "ui/session/controls_json.h"

#include <QJsonArray>

#include <array>

namespace vitscope::ui {

namespace {

constexpr std::array<const char*, kPanelCount> kPanelNames = {"attention", "reconstruction", "spectrum",
                                                              "representation", "probes"};

int panel_index(const QString& name) {
  for (int i = 0; i < kPanelCount; ++i)
    if (name == QLatin1String(kPanelNames[i])) return i;
  return -1;
}

bool is_number_array(const QJsonValue& v, qsizetype size) {
  if (!v.isArray() || v.toArray().size() != size) return false;
  for (const auto& x : v.toArray())
    if (!x.isDouble()) return false;
  return true;
}

QString mask_edits_error(const QJsonValue& value) {
  if (!value.isArray()) return QStringLiteral("\"mask_edits\" must be a list of {\"area\": [x, y, w, h], \"masked\": bool}");
  for (const auto& e : value.toArray()) {
    const QJsonObject edit = e.toObject();
    for (auto it = edit.begin(); it != edit.end(); ++it)
      if (it.key() != "area" && it.key() != "masked") return QStringLiteral("unknown mask edit field \"%1\"").arg(it.key());
    if (!is_number_array(edit.value("area"), 4)) return QStringLiteral("a mask edit's \"area\" must be [x, y, width, height]");
    if (edit.contains("masked") && !edit.value("masked").isBool()) return QStringLiteral("a mask edit's \"masked\" must be true or false");
  }
  return {};
}

}  // namespace

QJsonObject controls_to_json(const AppState& state) {
  QJsonArray edits;
  for (const auto& e : state.maskEdits())
    edits.append(QJsonObject{{"area", QJsonArray{e.area.x(), e.area.y(), e.area.width(), e.area.height()}},
                             {"masked", e.masked}});
  const auto& q = state.query();
  return {{"panel", kPanelNames[static_cast<int>(state.panel())]},
          {"block", state.layer() + 1},
          {"head", state.head() < 0 ? QJsonValue("mean") : QJsonValue(state.head() + 1)},
          {"query", q.cls ? QJsonValue("cls") : QJsonValue(QJsonArray{q.relative.x(), q.relative.y()})},
          {"mask_ratio", state.maskRatio()},
          {"mask_seed", state.maskSeed()},
          {"mask_edits", edits}};
}

QString controls_json_error(const QJsonObject& c) {
  static const QStringList known{"panel", "block", "head", "query", "mask_ratio", "mask_seed", "mask_edits"};
  for (auto it = c.begin(); it != c.end(); ++it)
    if (!known.contains(it.key())) return QStringLiteral("unknown field \"%1\" (known: %2)").arg(it.key(), known.join(", "));
  if (c.contains("panel") && panel_index(c.value("panel").toString()) < 0)
    return QStringLiteral("\"panel\" must be one of attention, reconstruction, spectrum, representation, probes");
  if (c.contains("block") && (!c.value("block").isDouble() || c.value("block").toInt() == 0))
    return QStringLiteral("\"block\" must be a block number: 1 = first, -1 = last");
  const QJsonValue head = c.value("head");
  if (c.contains("head") && head != QJsonValue("mean") && !(head.isDouble() && head.toInt() >= 1))
    return QStringLiteral("\"head\" must be \"mean\" or a head number from 1");
  if (c.contains("query") && c.value("query") != QJsonValue("cls") && !is_number_array(c.value("query"), 2))
    return QStringLiteral("\"query\" must be \"cls\" or [x, y] in 0..1");
  if (c.contains("mask_ratio") && !c.value("mask_ratio").isDouble()) return QStringLiteral("\"mask_ratio\" must be a number");
  if (c.contains("mask_seed") && !c.value("mask_seed").isDouble()) return QStringLiteral("\"mask_seed\" must be a number");
  if (c.contains("mask_edits")) return mask_edits_error(c.value("mask_edits"));
  return {};
}

void apply_controls_json(const QJsonObject& c, AppState& state) {
  if (c.contains("panel")) state.setPanel(static_cast<Panel>(panel_index(c.value("panel").toString())));
  if (c.contains("block")) {
    const int block = c.value("block").toInt();
    state.setLayer(block > 0 ? block - 1 : state.maxLayers() + block);
  }
  if (c.contains("head")) state.setHead(c.value("head").isString() ? -1 : c.value("head").toInt() - 1);
  if (c.contains("query")) {
    const QJsonValue q = c.value("query");
    if (q.isString()) state.setQueryCls(true);
    else state.setQueryPoint(QPointF(q.toArray().at(0).toDouble(), q.toArray().at(1).toDouble()));
  }
  if (c.contains("mask_ratio")) state.setMaskRatio(c.value("mask_ratio").toDouble());
  if (c.contains("mask_seed")) state.setMaskSeed(c.value("mask_seed").toInt());
  if (c.contains("mask_edits")) {
    state.clearMaskEdits();
    for (const auto& e : c.value("mask_edits").toArray()) {
      const QJsonArray a = e.toObject().value("area").toArray();
      state.addMaskEdit({QRectF(a[0].toDouble(), a[1].toDouble(), a[2].toDouble(), a[3].toDouble()),
                         e.toObject().value("masked").toBool(true)});
    }
  }
}

}  // namespace vitscope::ui
