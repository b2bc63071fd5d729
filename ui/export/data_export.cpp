#include "ui/export/data_export.h"

#include <QCoreApplication>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTextStream>

namespace vitscope::ui {

namespace {

QString csv_field(const QString& s) {
  if (!s.contains(',') && !s.contains('"') && !s.contains('\n')) return s;
  return '"' + QString(s).replace('"', QStringLiteral("\"\"")) + '"';
}

// Numbers, vectors and matrices become rows; nested objects extend the quantity's name
// ("attention_distance.per_layer"); text fields (names, definitions) are left out.
void flatten(const QString& prefix, const QString& quantity, const QJsonValue& v, QTextStream& out) {
  auto row = [&](const QString& i, const QString& j, double value) {
    out << prefix << csv_field(quantity) << ',' << i << ',' << j << ',' << QString::number(value, 'g', 9) << '\n';
  };
  if (v.isDouble() || v.isBool()) {
    row({}, {}, v.toDouble(v.toBool()));
  } else if (v.isArray()) {
    const auto a = v.toArray();
    for (int i = 0; i < a.size(); ++i) {
      if (a[i].isArray()) {
        const auto inner = a[i].toArray();
        for (int j = 0; j < inner.size(); ++j)
          if (inner[j].isDouble()) row(QString::number(i), QString::number(j), inner[j].toDouble());
      } else if (a[i].isDouble()) {
        row(QString::number(i), {}, a[i].toDouble());
      }
    }
  } else if (v.isObject()) {
    const auto o = v.toObject();
    for (auto it = o.begin(); it != o.end(); ++it) flatten(prefix, quantity + '.' + it.key(), it.value(), out);
  }
}

}  // namespace

QString panels_to_csv(const QList<QJsonObject>& panels) {
  QString text;
  QTextStream out(&text);
  out << "panel,model,quantity,i,j,value\n";
  for (const auto& panel : panels) {
    for (const auto& m : panel["models"].toArray()) {
      const auto model = m.toObject();
      const QString prefix = csv_field(panel["panel"].toString()) + ',' + csv_field(model["name"].toString()) + ',';
      for (auto it = model.begin(); it != model.end(); ++it)
        if (it.key() != "image_size" && it.key() != "grid") flatten(prefix, it.key(), it.value(), out);
    }
  }
  return text;
}

QByteArray panels_to_json(const QList<QJsonObject>& panels) {
  QJsonArray array;
  for (const auto& p : panels) array.append(p);
  return QJsonDocument(QJsonObject{{"vitscope", QCoreApplication::applicationVersion()}, {"panels", array}})
      .toJson(QJsonDocument::Indented);
}

bool save_panel_data(const QList<QJsonObject>& panels, const QString& path, QString* error) {
  const bool csv = QFileInfo(path).suffix().compare("csv", Qt::CaseInsensitive) == 0;
  QFile file(path);
  if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
    if (error) *error = QObject::tr("could not write %1: %2").arg(path, file.errorString());
    return false;
  }
  file.write(csv ? panels_to_csv(panels).toUtf8() : panels_to_json(panels));
  return true;
}

}  // namespace vitscope::ui
