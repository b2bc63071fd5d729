#pragma once
// Lessons: guided demos as JSON files (schema in docs/TEACHING.md). The bundled ones are in
// resources/lessons, teachers add theirs to the user lesson folder. A step names only what it
// changes; names of bundled models and sample images are resolved here, when the file is read,
// so a lesson that cannot run says so before it starts.
#include <QString>
#include <QStringList>
#include <QVector>

#include <optional>

#include "ui/session/workspace_setup.h"

namespace vitscope::ui {

struct LessonStep {
  QString title;
  QString text;  // a few sentences; Qt rich text (<b>, <i>, <br>) allowed
  WorkspaceSetup setup;  // models and image resolved to absolute paths
};

struct Lesson {
  QString path;
  QString title;
  QString summary;
  QVector<LessonStep> steps;
};

// nullopt with `error` = "FILE: problem" (step number and field named) when the lesson cannot run.
std::optional<Lesson> read_lesson(const QString& path, QString* error);
// The bundled lesson folder and the user's (AppDataLocation/lessons), the bundled first.
QStringList lesson_folders();
// Every *.json lesson of these folders, by file name within a folder; the problems of the ones
// that could not be read go to `errors`.
QVector<Lesson> read_lessons(const QStringList& folders, QStringList* errors);

}  // namespace vitscope::ui
