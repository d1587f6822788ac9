#pragma once

#include <array>
#include <string_view>

namespace kv::wire {

// Topic names are part of the wire contract (docs/wire-format.md).
inline constexpr std::string_view kRawFramesTopic = "raw_video_frames";
inline constexpr std::string_view kProcessedTopic = "processed_images";
inline constexpr std::string_view kDetectionsTopic = "detections";
inline constexpr std::string_view kAlertsTopic = "alerts";  // kvision alert
// Each camera's tracker state after its latest frame, keyed by camera, on the partition
// number of the camera's input partition (kvision detect; docs/tracking.md).
inline constexpr std::string_view kTrackerStateTopic = "tracker_state";
// Each camera's health (wire/camera_health.h), keyed by camera (kvision ingest --cameras).
inline constexpr std::string_view kCameraHealthTopic = "camera_health";
// The four topics of a kvision deployment, which the embedded brokers create at start-up.
inline constexpr std::array<std::string_view, 4> kPipelineTopics = {
    kRawFramesTopic, kProcessedTopic, kDetectionsTopic, kAlertsTopic};
// Records that could not be processed go, unchanged, to "<topic>" + kDeadLetterSuffix.
inline constexpr std::string_view kDeadLetterSuffix = ".dlq";
// Frames a detector skipped (too old to be worth processing late) are recorded, without their
// image, on "<topic>" + kSkippedSuffix; the frames themselves stay in <topic> for replay.
inline constexpr std::string_view kSkippedSuffix = ".skipped";

}  // namespace kv::wire
