#include "ui/lessons/lesson.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>
#include <QStandardPaths>

#include "ui/resource_paths.h"
#include "ui/json_file.h"
#include "ui/session/controls_json.h"

namespace vitscope::ui {

namespace {

// A model: a bundled model's name ("moco") or a checkpoint path, relative to the lesson's folder.
std::optional<QString> resolve_model(const QString& name, const QDir& lesson_dir, QString* problem) {
  const bool is_name = !name.contains('/') && !name.contains('.');
  const QString models = resource_dir(QStringLiteral("models"));
  const QString path = is_name ? QDir(models).filePath(name + ".safetensors") : lesson_dir.absoluteFilePath(name);
  if (QFileInfo::exists(path)) return QFileInfo(path).absoluteFilePath();
  *problem = is_name ? QStringLiteral("model \"%1\" is not a bundled model (no %1.safetensors in %2)")
                           .arg(name, models.isEmpty() ? QStringLiteral("the bundled model folder, which was not found") : models)
                     : QStringLiteral("model file %1 not found").arg(path);
  return std::nullopt;
}

// An image: relative to the lesson's folder, else to the sample images ("skimage/chelsea.png").
std::optional<QString> resolve_image(const QString& name, const QDir& lesson_dir, QString* problem) {
  const QString samples = resource_dir(QStringLiteral("samples"));
  for (const QString& candidate : {lesson_dir.absoluteFilePath(name), samples.isEmpty() ? QString() : QDir(samples).filePath(name)})
    if (!candidate.isEmpty() && QFileInfo(candidate).isFile()) return QFileInfo(candidate).absoluteFilePath();
  *problem = QStringLiteral("image \"%1\" not found beside the lesson or among the sample images (%2)")
                 .arg(name, samples.isEmpty() ? QStringLiteral("none installed") : samples);
  return std::nullopt;
}

std::optional<LessonStep> read_step(const QJsonObject& json, const QDir& lesson_dir, QString* problem) {
  LessonStep step;
  QJsonObject controls = json;
  for (const char* key : {"title", "text", "models", "image"}) controls.remove(QLatin1String(key));
  if (const QString e = controls_json_error(controls); !e.isEmpty()) {
    *problem = e;
    return std::nullopt;
  }
  step.setup.controls = controls;
  step.title = json.value("title").toString();
  step.text = json.value("text").toString();
  if (step.text.isEmpty()) {
    *problem = QStringLiteral("\"text\" is missing: every step says what to look at");
    return std::nullopt;
  }
  if (json.contains("models")) {
    if (!json.value("models").isArray() || json.value("models").toArray().isEmpty()) {
      *problem = QStringLiteral("\"models\" must be a non-empty list of bundled model names or checkpoint paths");
      return std::nullopt;
    }
    step.setup.models.emplace();
    for (const auto& m : json.value("models").toArray()) {
      const auto path = resolve_model(m.toString(), lesson_dir, problem);
      if (!path) return std::nullopt;
      step.setup.models->append({*path, {}, {}});
    }
  }
  if (json.contains("image")) {
    const auto path = resolve_image(json.value("image").toString(), lesson_dir, problem);
    if (!path) return std::nullopt;
    step.setup.image = *path;
  }
  return step;
}

}  // namespace

std::optional<Lesson> read_lesson(const QString& path, QString* error) {
  auto fail = [&](const QString& problem) -> std::optional<Lesson> {
    if (error) *error = file_problem(path, problem);
    return std::nullopt;
  };
  const auto document = read_json_object(path, error);
  if (!document) return std::nullopt;
  const QJsonObject& root = *document;
  for (auto it = root.begin(); it != root.end(); ++it)
    if (!QStringList{"title", "summary", "steps"}.contains(it.key()))
      return fail(QStringLiteral("unknown field \"%1\" (a lesson has title, summary, steps)").arg(it.key()));
  Lesson lesson{QFileInfo(path).absoluteFilePath(), root.value("title").toString(), root.value("summary").toString(), {}};
  if (lesson.title.isEmpty()) return fail(QStringLiteral("\"title\" is missing"));
  const QJsonArray steps = root.value("steps").toArray();
  if (steps.isEmpty()) return fail(QStringLiteral("\"steps\" must be a non-empty list"));
  const QDir dir = QFileInfo(path).absoluteDir();
  for (int i = 0; i < steps.size(); ++i) {
    QString problem;
    const auto step = read_step(steps[i].toObject(), dir, &problem);
    if (!step) return fail(QStringLiteral("step %1: %2").arg(i + 1).arg(problem));
    lesson.steps.append(*step);
  }
  return lesson;
}

QStringList lesson_folders() {
  QStringList folders;
  if (const QString bundled = resource_dir(QStringLiteral("lessons")); !bundled.isEmpty()) folders << bundled;
  folders << QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/lessons");
  return folders;
}

QVector<Lesson> read_lessons(const QStringList& folders, QStringList* errors) {
  QVector<Lesson> lessons;
  for (const auto& folder : folders) {
    const QDir dir(folder);
    for (const auto& file : dir.entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name)) {
      QString error;
      if (auto lesson = read_lesson(dir.filePath(file), &error)) lessons.append(std::move(*lesson));
      else if (errors) errors->append(error);
    }
  }
  return lessons;
}

}  // namespace vitscope::ui
