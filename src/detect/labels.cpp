#include "detect/labels.h"

#include <fstream>

#include <fmt/format.h>

namespace kv::detect {

const std::vector<std::string>& coco80_labels() {
  static const std::vector<std::string> kLabels = {
      "person",        "bicycle",       "car",           "motorbike",
      "aeroplane",     "bus",           "train",         "truck",
      "boat",          "traffic light", "fire hydrant",  "stop sign",
      "parking meter", "bench",         "bird",          "cat",
      "dog",           "horse",         "sheep",         "cow",
      "elephant",      "bear",          "zebra",         "giraffe",
      "backpack",      "umbrella",      "handbag",       "tie",
      "suitcase",      "frisbee",       "skis",          "snowboard",
      "sports ball",   "kite",          "baseball bat",  "baseball glove",
      "skateboard",    "surfboard",     "tennis racket", "bottle",
      "wine glass",    "cup",           "fork",          "knife",
      "spoon",         "bowl",          "banana",        "apple",
      "sandwich",      "orange",        "broccoli",      "carrot",
      "hot dog",       "pizza",         "donut",         "cake",
      "chair",         "sofa",          "pottedplant",   "bed",
      "diningtable",   "toilet",        "tvmonitor",     "laptop",
      "mouse",         "remote",        "keyboard",      "cell phone",
      "microwave",     "oven",          "toaster",       "sink",
      "refrigerator",  "book",          "clock",         "vase",
      "scissors",      "teddy bear",    "hair drier",    "toothbrush",
  };
  return kLabels;
}

Result<std::vector<std::string>> load_labels(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return make_error(ErrorCode::kNotFound, fmt::format("cannot read class names from '{}'", path));
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) out.push_back(line);
  }
  if (out.empty())
    return make_error(ErrorCode::kInvalidArgument, fmt::format("'{}' has no class names", path));
  return out;
}

}  // namespace kv::detect
