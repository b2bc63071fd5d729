#pragma once
// Reading the app's JSON documents (sessions, lessons): the file's top-level object, or why not.
#include <QJsonObject>
#include <QString>

#include <optional>

namespace vitscope::ui {

// "PATH: PROBLEM" with the path in the platform's separators: how every file error reads.
QString file_problem(const QString& path, const QString& problem);

// The top-level object of the JSON file at `path`; otherwise nullopt and, in *error,
// file_problem(path, why): unreadable, not valid JSON (with the byte offset) or not an object.
std::optional<QJsonObject> read_json_object(const QString& path, QString* error);

}  // namespace vitscope::ui
