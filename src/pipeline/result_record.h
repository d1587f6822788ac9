// The results as subscribers read them: the detection record of a record on `detections`
// (its value) or on `processed_images` (a header beside the JPEG).
#pragma once

#include <string>

#include "common/result.h"
#include "kafka/record.h"
#include "wire/detection_record.h"

namespace kv::pipeline {

// The detection record's JSON, as it came. kDecode when a processed image has none.
Result<std::string> detection_json(const kafka::Message& msg);
// The detection record, decoded. kDecode for anything that is not one.
Result<wire::DetectionRecord> detection_record(const kafka::Message& msg);

}  // namespace kv::pipeline
