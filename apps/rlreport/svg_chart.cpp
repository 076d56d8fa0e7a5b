#include "apps/rlreport/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace rl::report {

namespace {

constexpr double kLeft = 70, kRight = 20, kTop = 34, kBottom = 48;

struct Range {
  double low = std::numeric_limits<double>::infinity();
  double high = -std::numeric_limits<double>::infinity();
  void add(double v) {
    if (!std::isfinite(v)) return;
    low = std::min(low, v);
    high = std::max(high, v);
  }
  void settle() {  // An empty or single-valued range gets a width.
    if (!std::isfinite(low)) low = 0, high = 1;
    if (low == high) low -= 0.5, high += 0.5;
  }
};

std::string number(double v) { return format_number("%.2f", v); }

std::string tick_label(double v) {
  const bool tiny_or_huge = std::fabs(v) >= 1e6 || (std::fabs(v) < 1e-3 && v != 0);
  return format_number(tiny_or_huge ? "%.3g" : "%.10g", v);
}

// Maps data coordinates to the plot area.
struct Frame {
  Range x, y;
  double width, height;
  double px(double v) const {
    return kLeft + (v - x.low) / (x.high - x.low) * (width - kLeft - kRight);
  }
  double py(double v) const {
    return height - kBottom - (v - y.low) / (y.high - y.low) * (height - kTop - kBottom);
  }
};

std::string polyline_points(const Frame& f, const std::vector<double>& x,
                            const std::vector<double>& y, bool steps) {
  std::string points;
  bool first = true;
  double previous_y = 0;
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(y[i])) continue;
    if (steps && !first) points += number(f.px(x[i])) + "," + number(f.py(previous_y)) + " ";
    points += number(f.px(x[i])) + "," + number(f.py(y[i])) + " ";
    previous_y = y[i];
    first = false;
  }
  return points;
}

std::string band_path(const Frame& f, const ChartBand& band) {
  std::string upper, lower;
  for (size_t i = 0; i < band.x.size(); ++i) {
    if (!std::isfinite(band.x[i]) || !std::isfinite(band.low[i]) || !std::isfinite(band.high[i]))
      continue;
    upper += upper.empty() ? 'M' : 'L';
    upper += number(f.px(band.x[i]));
    upper += ',';
    upper += number(f.py(band.high[i]));
    // The low edge runs backwards: each point goes in front of the ones before it.
    std::string point(1, 'L');
    point += number(f.px(band.x[i]));
    point += ',';
    point += number(f.py(band.low[i]));
    lower.insert(0, point);
  }
  return upper.empty() ? "" : upper + lower + "Z";
}

std::string axes(const Frame& f, const Chart& chart) {
  const double right = f.width - kRight, bottom = f.height - kBottom;
  std::string svg = "<rect x='" + number(kLeft) + "' y='" + number(kTop) + "' width='" +
                    number(right - kLeft) + "' height='" + number(bottom - kTop) + "' fill='" +
                    kPlotBackground + "'/>";
  for (const double t : nice_ticks(f.x.low, f.x.high)) {
    svg += "<line class='grid' x1='" + number(f.px(t)) + "' x2='" + number(f.px(t)) + "' y1='" +
           number(kTop) + "' y2='" + number(bottom) + "'/>";
    svg += "<text x='" + number(f.px(t)) + "' y='" + number(bottom + 16) +
           "' text-anchor='middle'>" + tick_label(t) + "</text>";
  }
  for (const double t : nice_ticks(f.y.low, f.y.high)) {
    svg += "<line class='grid' x1='" + number(kLeft) + "' x2='" + number(right) + "' y1='" +
           number(f.py(t)) + "' y2='" + number(f.py(t)) + "'/>";
    svg += "<text x='" + number(kLeft - 6) + "' y='" + number(f.py(t) + 4) +
           "' text-anchor='end'>" + tick_label(t) + "</text>";
  }
  svg += "<text class='title' x='" + number(kLeft) + "' y='20'>" + escape_html(chart.title) +
         "</text>";
  svg += "<text x='" + number((kLeft + right) / 2) + "' y='" + number(f.height - 10) +
         "' text-anchor='middle'>" + escape_html(chart.x_label) + "</text>";
  svg += "<text x='14' y='" + number((kTop + bottom) / 2) +
         "' text-anchor='middle' transform='rotate(-90 14 " + number((kTop + bottom) / 2) + ")'>" +
         escape_html(chart.y_label) + "</text>";
  return svg;
}

std::string legend(const Frame& f, const Chart& chart) {
  std::string svg;
  double y = kTop + 14;
  for (const ChartLine& line : chart.lines) {
    if (line.label.empty()) continue;
    const double x = f.width - kRight - 190;
    svg += "<line x1='" + number(x) + "' x2='" + number(x + 22) + "' y1='" + number(y - 4) +
           "' y2='" + number(y - 4) + "' stroke='" + line.colour + "' stroke-width='3'/>";
    svg += "<text x='" + number(x + 28) + "' y='" + number(y) + "'>" + escape_html(line.label) +
           "</text>";
    y += 16;
  }
  return svg;
}

}  // namespace

std::vector<double> nice_ticks(double low, double high, int count) {
  if (!(high > low) || !std::isfinite(low) || !std::isfinite(high)) return {low};
  const double raw = (high - low) / std::max(count - 1, 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = magnitude;
  for (const double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    step = m * magnitude;
    if (step >= raw) break;
  }
  std::vector<double> ticks;
  for (double t = std::ceil(low / step) * step; t <= high + step * 1e-9; t += step)
    ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  return ticks;
}

std::string format_number(const char* format, double value) {
  char text[48];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

std::string escape_html(const std::string& text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string svg_chart(const Chart& chart) {
  Frame f{{}, {}, static_cast<double>(chart.width), static_cast<double>(chart.height)};
  for (const ChartBand& band : chart.bands) {
    for (const double x : band.x) f.x.add(x);
    for (const double y : band.low) f.y.add(y);
    for (const double y : band.high) f.y.add(y);
  }
  for (const ChartLine& line : chart.lines) {
    for (const double x : line.x) f.x.add(x);
    for (const double y : line.y) f.y.add(y);
  }
  if (chart.y_range) f.y = {chart.y_range->first, chart.y_range->second};
  f.x.settle();
  f.y.settle();
  const double pad = (f.y.high - f.y.low) * 0.04;  // Keep lines off the frame.
  f.y.low -= pad;
  f.y.high += pad;
  std::string svg = "<svg xmlns='http://www.w3.org/2000/svg' class='chart' width='" +
                    std::to_string(chart.width) + "' height='" + std::to_string(chart.height) +
                    "' viewBox='0 0 " + std::to_string(chart.width) + " " +
                    std::to_string(chart.height) + "'>" + axes(f, chart);
  for (const ChartBand& band : chart.bands) {
    const std::string path = band_path(f, band);
    if (!path.empty())
      svg += "<path class='band' d='" + path + "' fill='" + band.colour + "' fill-opacity='" +
             number(band.opacity) + "' stroke='none'/>";
  }
  for (const ChartLine& line : chart.lines) {
    svg += "<polyline fill='none' stroke='" + line.colour + "' stroke-width='" +
           number(line.width) + "' stroke-opacity='" + number(line.opacity) +
           "' stroke-linejoin='round' points='" + polyline_points(f, line.x, line.y, line.steps) +
           "'/>";
  }
  return svg + legend(f, chart) + "</svg>";
}

}  // namespace rl::report
