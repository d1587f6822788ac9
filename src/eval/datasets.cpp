#include "eval/datasets.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace kv::eval {
namespace fs = std::filesystem;
namespace {

// COCO's 80 detection categories in their 91-id space, in contiguous class order.
constexpr std::array<int, 80> kCoco91 = {
    1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21,
    22, 23, 24, 25, 27, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44,
    46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65,
    67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90};

Error bad(const fs::path& file, const std::string& what) {
  return make_error(ErrorCode::kDecode, fmt::format("{}: {}", file.string(), what));
}

}  // namespace

int coco91_category(int class_id) {
  return class_id >= 0 && class_id < static_cast<int>(kCoco91.size())
             ? kCoco91[static_cast<size_t>(class_id)]
             : -1;
}

int contiguous_class(int coco_category) {
  const auto* it = std::find(kCoco91.begin(), kCoco91.end(), coco_category);
  return it == kCoco91.end() ? -1 : static_cast<int>(it - kCoco91.begin());
}

Result<CocoDataset> load_coco(const fs::path& dir) {
  const fs::path file = dir / "instances.json";
  std::ifstream in(file);
  if (!in) {
    return make_error(
        ErrorCode::kNotFound,
        fmt::format("no COCO annotations at '{}' (expected DIR/instances.json)", file.string()));
  }
  nlohmann::json j;
  try {
    in >> j;
  } catch (const nlohmann::json::exception& e) {
    return bad(file, fmt::format("not valid JSON: {}", e.what()));
  }
  if (!j.is_object() || !j.contains("images") || !j.contains("annotations"))
    return bad(file, "expected an object with \"images\" and \"annotations\"");
  CocoDataset out;
  try {
    for (const auto& im : j.at("images")) {
      CocoImage image;
      image.id = im.at("id").get<int64_t>();
      const std::string name = im.at("file_name").get<std::string>();
      image.path = fs::exists(dir / "images" / name) ? dir / "images" / name : dir / name;
      image.width = im.value("width", 0);
      image.height = im.value("height", 0);
      out.images.push_back(std::move(image));
    }
    for (const auto& a : j.at("annotations")) {
      const int category = a.at("category_id").get<int>();
      const int cls = contiguous_class(category);
      if (cls < 0) return bad(file, fmt::format("unknown COCO category id {}", category));
      const auto& b = a.at("bbox");
      if (!b.is_array() || b.size() != 4) return bad(file, "a bbox is not [x, y, w, h]");
      GroundTruth g;
      g.image_id = a.at("image_id").get<int64_t>();
      g.class_id = cls;
      g.box =
          cv::Rect2f(b[0].get<float>(), b[1].get<float>(), b[2].get<float>(), b[3].get<float>());
      g.ignore = a.value("iscrowd", 0) != 0;
      out.truth.push_back(g);
    }
  } catch (const nlohmann::json::exception& e) {
    return bad(file, fmt::format("unexpected content: {}", e.what()));
  }
  std::sort(out.images.begin(), out.images.end(),
            [](const CocoImage& a, const CocoImage& b) { return a.id < b.id; });
  for (const CocoImage& im : out.images) {
    std::error_code ec;
    if (!fs::is_regular_file(im.path, ec))
      return make_error(ErrorCode::kNotFound, fmt::format("image {} of '{}' is missing",
                                                          im.path.string(), file.string()));
  }
  return out;
}

Result<MotTruth> load_mot(const fs::path& gt_file) {
  std::ifstream in(gt_file);
  if (!in)
    return make_error(ErrorCode::kNotFound,
                      fmt::format("cannot read MOT ground truth '{}'", gt_file.string()));
  MotTruth out;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    std::vector<double> f;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) {
      try {
        size_t used = 0;
        f.push_back(std::stod(cell, &used));
      } catch (const std::exception&) {
        return bad(gt_file, fmt::format("line {}: '{}' is not a number", number, cell));
      }
    }
    if (f.size() < 7)
      return bad(gt_file,
                 fmt::format("line {}: expected frame,id,left,top,width,height,flag,...", number));
    const int frame = static_cast<int>(f[0]);
    if (frame < 1) return bad(gt_file, fmt::format("line {}: frame {} (1-based)", number, frame));
    GroundTruth g;
    g.image_id = frame - 1;
    g.class_id = 0;
    g.box = cv::Rect2f(static_cast<float>(f[2]), static_cast<float>(f[3]), static_cast<float>(f[4]),
                       static_cast<float>(f[5]));
    g.ignore = f[6] == 0;
    g.track_id = static_cast<int64_t>(f[1]);
    out.truth.push_back(g);
    out.frames = std::max(out.frames, frame);
  }
  if (out.truth.empty()) return bad(gt_file, "no ground-truth rows");
  return out;
}

}  // namespace kv::eval
