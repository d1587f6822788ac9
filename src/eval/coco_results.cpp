#include "eval/coco_results.h"

#include <cmath>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "eval/datasets.h"

namespace kv::eval {

Status write_coco_results(const std::filesystem::path& file,
                          const std::vector<ScoredDetection>& detections) {
  auto round2 = [](float v) { return std::round(static_cast<double>(v) * 100.0) / 100.0; };
  nlohmann::json out = nlohmann::json::array();
  for (const ScoredDetection& d : detections) {
    const int category = coco91_category(d.det.class_id);
    if (category < 0) continue;  // not a COCO class
    out.push_back({{"image_id", d.image_id},
                   {"category_id", category},
                   {"bbox",
                    {round2(d.det.box.x), round2(d.det.box.y), round2(d.det.box.width),
                     round2(d.det.box.height)}},
                   {"score", std::round(static_cast<double>(d.det.score) * 1e5) / 1e5}});
  }
  std::ofstream f(file);
  f << out.dump() << '\n';
  f.close();
  if (!f) return make_error(ErrorCode::kIo, fmt::format("cannot write '{}'", file.string()));
  return ok_status();
}

}  // namespace kv::eval
