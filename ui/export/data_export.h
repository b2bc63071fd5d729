#pragma once
// The numbers behind a figure as files: the panels' JSON as is, or flattened into one tidy CSV
// table (panel, model, quantity, i, j, value), easy to load in pandas or R.
#include <QJsonObject>
#include <QList>
#include <QString>

namespace vitscope::ui {

QString panels_to_csv(const QList<QJsonObject>& panels);
// {"vitscope": version, "panels": [...]} — also fine for a single panel.
QByteArray panels_to_json(const QList<QJsonObject>& panels);
bool save_panel_data(const QList<QJsonObject>& panels, const QString& path, QString* error);  // .csv or .json

}  // namespace vitscope::ui
