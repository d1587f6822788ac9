// Plane geometry for zones and lines drawn on a frame (pixels or 0..1 of the frame's size).
#pragma once

#include <vector>

namespace kv {

struct Point {
  double x = 0;
  double y = 0;
};

// Whether `p` lies inside the polygon (even-odd rule; the polygon closes itself).
inline bool inside(const std::vector<Point>& polygon, Point p) {
  bool in = false;
  for (size_t i = 0, j = polygon.size() - 1; i < polygon.size(); j = i++) {
    const Point& a = polygon[i];
    const Point& b = polygon[j];
    if ((a.y > p.y) != (b.y > p.y) && p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x) in = !in;
  }
  return in;
}

// > 0 when `p` is to the left of the directed line a -> b (y pointing down: clockwise), < 0 to
// the right, 0 on it.
inline double side_of(Point a, Point b, Point p) {
  return (b.x - a.x) * (p.y - a.y) - (b.y - a.y) * (p.x - a.x);
}

// Whether segments p0-p1 and a-b cross (touching counts as crossing).
inline bool segments_cross(Point p0, Point p1, Point a, Point b) {
  const double d1 = side_of(a, b, p0);
  const double d2 = side_of(a, b, p1);
  const double d3 = side_of(p0, p1, a);
  const double d4 = side_of(p0, p1, b);
  return ((d1 <= 0 && d2 >= 0) || (d1 >= 0 && d2 <= 0)) &&
         ((d3 <= 0 && d4 >= 0) || (d3 >= 0 && d4 <= 0)) && !(d1 == 0 && d2 == 0);
}

}  // namespace kv
