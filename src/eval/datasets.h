// Labelled data for kvision eval: a COCO folder (images + instances.json) or a video with
// MOT-style ground truth.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"
#include "eval/metrics.h"

namespace kv::eval {

struct CocoImage {
  int64_t id = 0;
  std::filesystem::path path;
  int width = 0;
  int height = 0;
};

struct CocoDataset {
  std::vector<CocoImage> images;  // ascending id
  std::vector<GroundTruth> truth;
};

// Reads DIR/instances.json; images are DIR/images/<file_name> (or DIR/<file_name>). Category
// ids are COCO's 91-id space, mapped to contiguous class ids; iscrowd boxes are ignored boxes.
Result<CocoDataset> load_coco(const std::filesystem::path& dir);

// MOTChallenge gt.txt: frame,id,left,top,width,height,flag,... (frame 1-based). Box rows become
// persons (class 0) of image id frame-1 (the 0-based video frame); flag 0 rows are don't-care.
// `frames` is the number of frames the ground truth covers (its largest frame number).
struct MotTruth {
  std::vector<GroundTruth> truth;
  int frames = 0;
};
Result<MotTruth> load_mot(const std::filesystem::path& gt_file);

// COCO's official category id of a contiguous class id (0..79), or -1.
int coco91_category(int class_id);
// The contiguous class id of a COCO category id, or -1.
int contiguous_class(int coco_category);

}  // namespace kv::eval
