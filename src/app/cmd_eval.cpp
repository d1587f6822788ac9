// kvision eval: the detector's accuracy on labelled data, as a COCO-style report.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>

#include <fmt/format.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/videoio.hpp>

#include "app/cli.h"
#include "app/local_pipeline.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/stop.h"
#include "detect/detector.h"
#include "eval/coco_results.h"
#include "eval/datasets.h"
#include "eval/metrics.h"
#include "eval/tracking.h"

namespace kv::app {
namespace {

struct EvalOptions {
  detect::DetectorParams detector;
  std::string dataset;  // COCO folder
  std::string video;    // or a video with MOT ground truth
  std::string mot_gt;
  std::string coco_results;
  bool through_kafka = false;  // ingest -> broker -> detect, as in production
  int jpeg_quality = 80;
  bool track = false;       // also score the tracker (video only)
  std::string mot_results;  // and write its tracks here
  std::string tracks_from;  // score the track IDs a pipeline published (JSON lines)
  std::string camera;       // of this camera
};

void print_tracking(const std::vector<eval::TrackerRun>& runs) {
  std::printf(
      "\n== tracking: persons, CLEAR-MOT and identity metrics, IoU >= 0.5 ==\n"
      "%-10s %7s %7s %6s %6s %6s %6s %7s\n",
      "tracker", "MOTA", "IDF1", "IDSW", "FP", "FN", "MOTP", "tracks");
  for (const eval::TrackerRun& r : runs) {
    const track::MotScores& m = r.scores;
    std::printf("%-10s %7.3f %7.3f %6lld %6lld %6lld %6.3f %7lld\n", r.name.c_str(), m.mota, m.idf1,
                static_cast<long long>(m.id_switches), static_cast<long long>(m.false_positives),
                static_cast<long long>(m.misses), m.motp, static_cast<long long>(m.hyp_tracks));
  }
  for (const eval::TrackerRun& r : runs) {
    const track::MotScores& m = r.scores;
    std::printf("TRACK tracker=%s mota=%.4f idf1=%.4f idsw=%lld fp=%lld fn=%lld gt=%lld\n",
                r.name.c_str(), m.mota, m.idf1, static_cast<long long>(m.id_switches),
                static_cast<long long>(m.false_positives), static_cast<long long>(m.misses),
                static_cast<long long>(m.gt));
  }
}

// "[eval] 40/86 images, 12.3 img/s" on a terminal, at most a few times a second.
class Progress {
 public:
  Progress(const char* what, size_t total) : what_(what), total_(total), tty_(isatty(2) != 0) {}
  void update(size_t done) {
    if (!tty_ || (since_.elapsed_ms() < 250 && done != total_)) return;
    since_ = Stopwatch();
    std::fprintf(stderr, "\r[eval] %zu/%zu %s, %.1f/s ", done, total_, what_,
                 static_cast<double>(done) / std::max(1e-3, start_.elapsed_ms() / 1000.0));
    if (done == total_) std::fprintf(stderr, "\n");
  }

 private:
  const char* what_;
  size_t total_;
  bool tty_;
  Stopwatch start_;
  Stopwatch since_;
};

void print_report(const eval::EvalReport& r, const detect::Detector& det, const EvalOptions& o,
                  double seconds) {
  const std::string& data = o.dataset.empty() ? o.video : o.dataset;
  std::printf("\n== kvision eval ==\n");
  std::printf("model       %s (%zu classes; scores >= %g, NMS IoU %g, input %d)\n",
              det.name().c_str(), det.labels().size(), o.detector.score_threshold,
              o.detector.nms_iou, o.detector.input_size);
  std::printf("engine      %s\n", det.engine().c_str());
  std::printf("data        %s: %d images, %d detections, %.1f s\n", data.c_str(), r.images,
              r.detections, seconds);
  if (o.through_kafka) {
    std::printf(
        "path        through Kafka: ingest (JPEG quality %d) -> embedded broker -> detect\n",
        o.jpeg_quality);
  } else {
    std::printf("path        direct: decoded images straight into the detector\n");
  }
  std::printf("\n%-16s %6s %8s %8s %8s\n", "class", "boxes", "AP", "AP50", "AP75");
  for (const eval::ClassAp& c : r.classes) {
    std::printf("%-16s %6d %8.3f %8.3f %8.3f\n", det.label(c.class_id).c_str(), c.gt_count, c.ap,
                c.ap50, c.ap75);
  }
  const eval::ClassAp* person = nullptr;
  for (const eval::ClassAp& c : r.classes) person = c.class_id == 0 ? &c : person;
  std::printf("\nmAP@[.5:.95] %.3f   AP50 %.3f   AP75 %.3f   (%zu classes with ground truth)\n",
              r.map, r.ap50, r.ap75, r.classes.size());
  if (person != nullptr)
    std::printf("person       AP %.3f   AP50 %.3f   (%d boxes)\n", person->ap, person->ap50,
                person->gt_count);
  // One machine-readable line for scripts.
  std::printf("EVAL map=%.4f ap50=%.4f person_ap=%.4f person_ap50=%.4f images=%d engine=%s\n",
              r.map, r.ap50, person ? person->ap : 0.0, person ? person->ap50 : 0.0, r.images,
              detect::engine_name(det).c_str());
}

// Sends the source through the real pipeline (ingest -> embedded broker -> detect) and returns
// the detections of each published frame by its sequence number.
Result<std::map<int64_t, std::vector<detect::Detection>>> detect_through_kafka(
    const EvalOptions& o, const std::string& source, int64_t expected_frames,
    std::stop_token stop) {
  std::mutex mu;
  std::map<int64_t, std::vector<detect::Detection>> by_seq;
  LocalPipelineParams lp;
  lp.detector = o.detector;
  lp.on_record = [&](const wire::DetectionRecord& r, int64_t) {
    std::vector<detect::Detection> dets;
    for (const wire::DetectedObject& d : r.detections)
      dets.push_back({d.class_id, d.score, cv::Rect2f(d.box.x, d.box.y, d.box.w, d.box.h)});
    std::lock_guard lock(mu);
    by_seq[r.frame.seq] = std::move(dets);
  };
  auto pipeline = LocalPipeline::start(lp, stop);
  if (!pipeline) return pipeline.error();
  pipeline::IngestParams ip;
  ip.source = source;
  ip.camera = "eval";
  ip.jpeg_quality = o.jpeg_quality;
  ip.max_frames = expected_frames;
  ip.progress = isatty(STDERR_FILENO) != 0;
  auto ingested = (*pipeline)->ingest(ip, stop);
  if (!ingested) return ingested.error();
  if (ingested->frames_published != expected_frames) {
    return make_error(ErrorCode::kDecode,
                      fmt::format("ingest published {} frames of '{}', expected {}",
                                  ingested->frames_published, source, expected_frames));
  }
  if (Status s = (*pipeline)->wait_for(expected_frames, 60, stop); !s) return s.error();
  pipeline->reset();
  std::lock_guard lock(mu);
  return by_seq;
}

// --tracks-from: no detector runs; the published track IDs are scored.
int run_eval_published(const EvalOptions& o) {
  auto gt = eval::load_mot(o.mot_gt);
  if (!gt) return report_error("eval", gt.error());
  auto run = eval::published_tracks(o.tracks_from, o.camera, gt->frames, gt->truth);
  if (!run) return report_error("eval", run.error());
  print_tracking({*run});
  if (!o.mot_results.empty()) {
    if (Status s = eval::write_mot_results(o.mot_results, *run); !s)
      return report_error("eval", s.error());
  }
  return kExitOk;
}

int run_eval(EvalOptions& o) {
  if (!o.tracks_from.empty()) {
    if (o.mot_gt.empty()) {
      return report_error(
          "eval", make_error(ErrorCode::kInvalidArgument, "--tracks-from needs --mot-gt FILE"));
    }
    return run_eval_published(o);
  }
  const bool coco = !o.dataset.empty();
  if (coco == !o.video.empty() || (!o.video.empty() && o.mot_gt.empty())) {
    return report_error("eval", make_error(ErrorCode::kInvalidArgument,
                                           "give either --dataset DIR (COCO) or --video FILE "
                                           "--mot-gt FILE"));
  }
  if (o.track && o.video.empty()) {
    return report_error("eval", make_error(ErrorCode::kInvalidArgument,
                                           "--track needs --video FILE --mot-gt FILE"));
  }
  auto detector = detect::make_detector(o.detector);
  if (!detector) return report_error("eval", detector.error());
  detect::Detector& det = **detector;
  int video_frames = 0;
  std::stop_source stop;
  SignalBridge bridge(stop);

  std::vector<int64_t> images;
  std::vector<eval::GroundTruth> truth;
  std::vector<eval::ScoredDetection> found;
  eval::EvalParams params;
  const Stopwatch clock;
  auto detect_one = [&](int64_t id, const cv::Mat& bgr) -> Status {
    auto dets = det.detect(bgr, nullptr);
    if (!dets) return dets.error();
    images.push_back(id);
    for (const detect::Detection& d : *dets) found.push_back({id, d});
    return ok_status();
  };

  if (coco) {
    auto data = eval::load_coco(o.dataset);
    if (!data) return report_error("eval", data.error());
    truth = std::move(data->truth);
    if (o.through_kafka) {
      // The image-folder source publishes the folder's images in file-name order.
      std::vector<eval::CocoImage> by_name = data->images;
      std::sort(by_name.begin(), by_name.end(),
                [](const auto& a, const auto& b) { return a.path.filename() < b.path.filename(); });
      const std::filesystem::path folder =
          by_name.empty() ? "" : by_name.front().path.parent_path();
      for (const auto& im : by_name) {
        if (im.path.parent_path() != folder) {
          return report_error("eval",
                              make_error(ErrorCode::kInvalidArgument,
                                         "--through-kafka needs every image in one folder"));
        }
      }
      auto results = detect_through_kafka(o, folder.string(), static_cast<int64_t>(by_name.size()),
                                          stop.get_token());
      if (!results) return report_error("eval", results.error());
      for (size_t k = 0; k < by_name.size(); ++k) {
        images.push_back(by_name[k].id);
        for (const auto& d : (*results)[static_cast<int64_t>(k)])
          found.push_back({by_name[k].id, d});
      }
    }
    Progress progress("images", data->images.size());
    for (const eval::CocoImage& im :
         o.through_kafka ? std::vector<eval::CocoImage>{} : data->images) {
      if (stop_requested()) return kExitFailure;
      const cv::Mat bgr = cv::imread(im.path.string(), cv::IMREAD_COLOR);
      if (bgr.empty()) {
        return report_error("eval",
                            make_error(ErrorCode::kDecode,
                                       fmt::format("cannot decode image '{}'", im.path.string())));
      }
      if (Status s = detect_one(im.id, bgr); !s) return report_error("eval", s.error());
      progress.update(images.size());
    }
  } else {
    auto gt = eval::load_mot(o.mot_gt);
    if (!gt) return report_error("eval", gt.error());
    truth = std::move(gt->truth);
    video_frames = gt->frames;
    params.only_classes = {0};  // MOT ground truth has persons only
    if (o.through_kafka) {
      auto results = detect_through_kafka(o, o.video, gt->frames, stop.get_token());
      if (!results) return report_error("eval", results.error());
      for (int64_t k = 0; k < gt->frames; ++k) {
        images.push_back(k);
        for (const auto& d : (*results)[k]) found.push_back({k, d});
      }
      gt->frames = 0;  // nothing left to read below
    }
    cv::VideoCapture cap(o.video, cv::CAP_FFMPEG);
    if (!cap.isOpened()) {
      return report_error(
          "eval", make_error(ErrorCode::kNotFound, fmt::format("cannot open video '{}'", o.video)));
    }
    Progress progress("frames", static_cast<size_t>(gt->frames));
    cv::Mat frame;
    for (int k = 0; k < gt->frames; ++k) {  // video frame k is ground-truth frame k+1
      if (stop_requested()) return kExitFailure;
      if (!cap.read(frame) || frame.empty()) {
        return report_error(
            "eval", make_error(ErrorCode::kDecode,
                               fmt::format("video '{}' ended at frame {}, but the ground truth "
                                           "covers {} frames",
                                           o.video, k, gt->frames)));
      }
      if (Status s = detect_one(k, frame); !s) return report_error("eval", s.error());
      progress.update(images.size());
    }
  }
  const double seconds = clock.elapsed_ms() / 1000.0;
  if (!o.coco_results.empty()) {
    if (Status s = eval::write_coco_results(o.coco_results, found); !s)
      return report_error("eval", s.error());
    log_info("eval: {} detections written to {}", found.size(), o.coco_results);
  }
  const eval::EvalReport report = eval::evaluate(images, truth, found, params);
  print_report(report, det, o, seconds);
  if (o.track) {
    const std::vector<eval::TrackerRun> runs = eval::evaluate_tracking(video_frames, truth, found);
    print_tracking(runs);
    if (!o.mot_results.empty()) {
      if (Status s = eval::write_mot_results(o.mot_results, runs.front()); !s)
        return report_error("eval", s.error());
      log_info("eval: tracks written to {} (MOTChallenge format)", o.mot_results);
    }
  }
  return kExitOk;
}

}  // namespace

void add_eval_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<EvalOptions>();
  o->detector.score_threshold = 0.001f;  // the whole precision/recall curve
  CLI::App* cmd = app.add_subcommand(
      "eval",
      "Measure the detector's accuracy (COCO mAP) on a COCO folder or a video with MOT "
      "ground truth");
  add_model_options(cmd, o->detector);
  cmd->add_option("--dataset", o->dataset, "COCO folder: instances.json and images/");
  cmd->add_option("--video", o->video, "Video file whose frames the --mot-gt file labels");
  cmd->add_option("--mot-gt", o->mot_gt,
                  "MOTChallenge gt.txt (frame k+1 labels video frame k; flag 0 = don't care)");
  cmd->add_option("--coco-results", o->coco_results,
                  "Also write the detections as a COCO results JSON file");
  cmd->add_flag("--track", o->track,
                "Also track the persons (with --video): kvision's tracker and the plain IoU "
                "tracker, scored by MOTA and IDF1 against the ground truth's identities");
  cmd->add_option("--tracks-from", o->tracks_from,
                  "Instead of running a detector: score the track IDs a pipeline published, "
                  "from detection records one per line (kvision sink/run --output) against "
                  "--mot-gt; a frame's last record counts");
  cmd->add_option("--camera", o->camera, "With --tracks-from: only this camera's records");
  cmd->add_option("--mot-results", o->mot_results,
                  "With --track: write kvision's tracks here (MOTChallenge: frame,id,x,y,w,h,"
                  "score,-1,-1,-1; frames 1-based)");
  cmd->add_flag("--through-kafka", o->through_kafka,
                "Send the images through the real pipeline (ingest -> embedded broker -> "
                "detect), JPEG-encoded at --jpeg-quality, as in production");
  cmd->add_option("--jpeg-quality,-q", o->jpeg_quality, "JPEG quality for --through-kafka")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  cmd->callback([o, &action] { action = [o] { return run_eval(*o); }; });
}

}  // namespace kv::app
