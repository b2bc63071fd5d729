#pragma once
// The colour of a model in every plot, in the app and in vitscope-cli's figures alike: by
// objective family, the contrast the paper draws (CL blues, MIM oranges and reds, hybrids
// purples, anything else greens and greys). Models of one family take its colours in order.
// Qt-free, so that the CLI's torch code can include it.
#include <string>
#include <vector>

namespace vitscope::ui {

// "#rrggbb" for the next model of `objective` ("CL", "MIM", "hybrid", ...; a model card's
// objective) when the colours in `taken` are in use: the family's first free colour, or, when
// the family has run out, one of its colours again.
std::string next_model_color(const std::string& objective, const std::vector<std::string>& taken);

// Colours for models in order (the first gets the first colour of its family, and so on).
std::vector<std::string> model_colors(const std::vector<std::string>& objectives);

}  // namespace vitscope::ui
