#pragma once
// A picture of the workspace to set up: which models (in column order), which images, which
// image is shown and the controls. A session file holds a whole one; a lesson step a partial one
// (what it leaves out stays as it is).
#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QVector>

#include <optional>

namespace vitscope::ui {

struct ModelRef {
  QString path;
  QString name;    // display name; "" = the model card's
  QString sha256;  // of the checkpoint file, "" = not checked (folders, lessons)
};

struct WorkspaceSetup {
  std::optional<QVector<ModelRef>> models;  // replaces the shelf, kept rows are not reloaded
  std::optional<QStringList> images;        // replaces the gallery
  QString image;                            // shown image ("" = keep); added if not there
  QJsonObject controls;                     // ui/session/controls_json.h
};

}  // namespace vitscope::ui
