// The shared controls: relative query and mask edits mapped into grids of different sizes.
#include <gtest/gtest.h>

#include <algorithm>

#include "ui/app_state.h"
#include "ui/export/cli_command.h"
#include "ui/export/data_export.h"
#include "ui/plots/colormap.h"

#include <QJsonArray>

using namespace vitscope::ui;

TEST(AppState, QueryIsSharedByPositionAcrossGrids) {
  AppState s;
  s.setQueryPoint({0.55, 0.30});
  EXPECT_EQ(s.queryCell(8)->row, 2);   // 0.30 * 8 = 2.4
  EXPECT_EQ(s.queryCell(8)->col, 4);   // 0.55 * 8 = 4.4
  EXPECT_EQ(s.queryCell(14)->row, 4);  // 0.30 * 14 = 4.2
  EXPECT_EQ(s.queryCell(14)->col, 7);  // 0.55 * 14 = 7.7
  s.setQueryCls(true);
  EXPECT_FALSE(s.queryCell(8).has_value());
}

TEST(AppState, StepQueryMovesWholeCellsAndStaysInside) {
  AppState s;
  s.setQueryPoint({0.01, 0.01});
  s.stepQuery(-1, -1, 8);
  EXPECT_EQ(s.queryCell(8)->row, 0);
  s.stepQuery(1, 2, 8);
  EXPECT_EQ(s.queryCell(8)->row, 1);
  EXPECT_EQ(s.queryCell(8)->col, 2);
}

TEST(AppState, MaskEditCoversTheSameAreaInAnotherGrid) {
  AppState s;
  // Painting cell (row 1, col 2) of an 8×8 grid …
  s.addMaskEdit({QRectF(2 / 8.0, 1 / 8.0, 1 / 8.0, 1 / 8.0), true});
  auto m8 = s.applyMaskEdits(std::vector<uint8_t>(64, 0), 8);
  EXPECT_EQ(m8[1 * 8 + 2], 1);
  EXPECT_EQ(std::count(m8.begin(), m8.end(), 1), 1);
  // … masks the 16×16 cells under the same area (2×2 of them).
  auto m16 = s.applyMaskEdits(std::vector<uint8_t>(256, 0), 16);
  EXPECT_EQ(std::count(m16.begin(), m16.end(), 1), 4);
  EXPECT_EQ(m16[2 * 16 + 4], 1);
  // Erasing wins when it comes later; a new ratio forgets the edits.
  s.addMaskEdit({QRectF(2 / 8.0, 1 / 8.0, 1 / 8.0, 1 / 8.0), false});
  EXPECT_EQ(s.applyMaskEdits(std::vector<uint8_t>(64, 1), 8)[1 * 8 + 2], 0);
  s.setMaskRatio(0.5);
  EXPECT_TRUE(s.maskEdits().isEmpty());
}

TEST(AppState, LimitsClampLayerAndHeadAndStartNearTheEnd) {
  AppState s;
  s.setLimits(12, 4);
  EXPECT_EQ(s.layer(), 10);  // the paper notebook's default block
  s.setLayer(40);
  EXPECT_EQ(s.layer(), 11);
  s.setHead(3);
  s.stepHead(1);
  EXPECT_EQ(s.head(), -1);  // after the last head comes the mean
  s.setLimits(6, 2);
  EXPECT_EQ(s.layer(), 5);
  EXPECT_EQ(s.head(), -1);
}

TEST(Colormap, EndsAndGridScaling) {
  EXPECT_EQ(colormap_color(Colormap::Plasma, 0.0), qRgb(0x0d, 0x08, 0x87));
  EXPECT_EQ(colormap_color(Colormap::Viridis, 1.0), qRgb(0xfd, 0xe7, 0x25));
  vitscope::runtime::FloatGrid g{1, 2, {0.f, 2.f}};
  const QImage image = grid_to_image(g, Colormap::Plasma);
  EXPECT_EQ(image.pixel(0, 0), colormap_color(Colormap::Plasma, 0.0));
  EXPECT_EQ(image.pixel(1, 0), colormap_color(Colormap::Plasma, 1.0));
}

TEST(Export, CliCommandQuotesPaths) {
  const QString cmd = cli_command({"/m/moco.safetensors", "/my models/mae.safetensors"}, "/img/cat's.png",
                                  {"attention-distance", "nmi"}, "out");
  EXPECT_EQ(cmd, "vitscope-cli analyze --model /m/moco.safetensors --model '/my models/mae.safetensors' "
                 "--image '/img/cat'\\''s.png' --metrics attention-distance,nmi --out out");
}

TEST(Export, CsvFlattensVectorsMatricesAndNestedObjects) {
  QJsonObject model{{"name", "m1"},
                    {"grid", 8},
                    {"masked_mse", 0.5},
                    {"curve", QJsonArray{1.0, 2.0}},
                    {"map", QJsonArray{QJsonArray{1.0, 2.0}, QJsonArray{3.0, 4.0}}},
                    {"nmi", QJsonObject{{"per_layer", QJsonArray{0.1}}, {"definition", "text"}}}};
  QJsonObject panel{{"panel", "Attention"}, {"models", QJsonArray{model}}};
  const QString csv = panels_to_csv({panel});
  EXPECT_TRUE(csv.startsWith("panel,model,quantity,i,j,value\n"));
  EXPECT_TRUE(csv.contains("Attention,m1,masked_mse,,,0.5\n"));
  EXPECT_TRUE(csv.contains("Attention,m1,curve,1,,2\n"));
  EXPECT_TRUE(csv.contains("Attention,m1,map,1,0,3\n"));
  EXPECT_TRUE(csv.contains("Attention,m1,nmi.per_layer,0,,0.1\n"));
  EXPECT_FALSE(csv.contains("definition"));
  EXPECT_FALSE(csv.contains(",grid,"));
}
