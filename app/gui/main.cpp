// vitscope: the desktop app. Creates the engine facade and the window; files named on the
// command line are opened like dropped files (images to the gallery, checkpoints to the shelf).
#include <QApplication>
#include <QCommandLineParser>
#include <QIcon>

#include "core/runtime/explorer.h"
#include "ui/main_window.h"
#include "ui/resource_paths.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("ViTScope"));
  QApplication::setApplicationName(QStringLiteral("ViTScope"));
  QApplication::setApplicationVersion(QStringLiteral(VITSCOPE_VERSION));
  // The installed icon theme's icon, else the bundled file (build tree, relocated install).
  QApplication::setDesktopFileName(QStringLiteral("org.vitscope.ViTScope"));
  QApplication::setWindowIcon(QIcon::fromTheme(QStringLiteral("org.vitscope.ViTScope"),
                                               QIcon(vitscope::ui::resource_dir(QStringLiteral("icons")) + "/vitscope.svg")));

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
