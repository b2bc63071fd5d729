// vitscope: the desktop app. Creates the engine facade and the window; files named on the
// command line are opened like dropped files (images to the gallery, checkpoints to the shelf).
#include <QApplication>
#include <QCommandLineParser>

#include "core/runtime/explorer.h"
#include "ui/main_window.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("ViTScope"));
  QApplication::setApplicationName(QStringLiteral("ViTScope"));
  QApplication::setApplicationVersion(QStringLiteral(VITSCOPE_VERSION));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("See what self-supervised Vision Transformers learn."));
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addPositionalArgument(QStringLiteral("files"), QStringLiteral("Images, image folders or model checkpoints to open."));
  parser.process(app);

  vitscope::runtime::Explorer explorer;
  vitscope::ui::MainWindow window(explorer);
  window.show();
  window.loadStartupContent();
  window.openPaths(parser.positionalArguments());
  return QApplication::exec();
}
