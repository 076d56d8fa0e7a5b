// Line charts as inline SVG (no scripts): axes with round-number ticks, shaded bands (a
// confidence interval: low..high at each x), polylines (straight or as steps) and a legend.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rl::report {

// The colour of the plot area's background: a colour nothing else on the page uses, so a
// screenshot test can find the plot area.
inline constexpr char kPlotBackground[] = "#f7f9fc";

struct ChartLine {
  std::vector<double> x, y;
  std::string colour;  // CSS colour, e.g. "#1f77b4".
  double width = 2;    // Stroke width in pixels.
  double opacity = 1;
  bool steps = false;  // Hold each value until the next x (a performance profile).
  std::string label;   // Shown in the legend when not empty.
};

struct ChartBand {
  std::vector<double> x, low, high;
  std::string colour;
  double opacity = 0.2;
};

struct Chart {
  std::string title, x_label, y_label;
  std::vector<ChartBand> bands;                      // Drawn first, under the lines.
  std::vector<ChartLine> lines;                      // Drawn in order.
  std::optional<std::pair<double, double>> y_range;  // Fixed y axis (else: fit the data).
  int width = 760, height = 380;
};

// The chart as an <svg> element. Points that are not finite are left out; an empty chart
// draws its axes around [0, 1].
std::string svg_chart(const Chart& chart);

// "1.5k"-free round tick values covering [low, high] (about `count` of them).
std::vector<double> nice_ticks(double low, double high, int count = 6);

// `value` as printf's `format` (one double conversion, e.g. "%.4g") prints it.
std::string format_number(const char* format, double value);

// Text safe inside HTML/SVG elements and attribute values.
std::string escape_html(const std::string& text);

}  // namespace rl::report
