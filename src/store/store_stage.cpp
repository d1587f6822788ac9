#include "store/store_stage.h"

#include "common/clock.h"
#include "pipeline/result_record.h"

namespace kv::store {

StoreStage::StoreStage(DetectionStore& db, FrameFiles* files, StoreStageOptions options)
    : db_(db), files_(files), options_(options) {}

Status StoreStage::take(const kafka::Message& m) {
  if (batch_.empty()) first_us_ = mono_now_us();
  auto rec = pipeline::detection_record(m);
  if (!rec) return rec.error();
  frames_.count(rec->frame.camera, m.size());
  if (files_ != nullptr) {
    // On disk (synced) before the batch commits, so a committed offset means both.
    if (Status s =
            files_->save(rec->frame.camera, rec->frame.session_us, rec->frame.seq, m.value_text());
        !s) {
      return s;
    }
  }
  batch_.push_back(std::move(*rec));
  return ok_status();
}

bool StoreStage::due(int64_t now_us) const {
  return static_cast<int>(batch_.size()) >= options_.batch ||
         now_us - first_us_ >= int64_t{options_.batch_ms} * 1000;
}

Status StoreStage::flush() {
  if (files_ != nullptr) {
    if (Status s = files_->sync(); !s) return s;  // the JPEGs' names are on disk too
  }
  if (!batch_.empty()) {
    auto added = db_.write(batch_);
    if (!added) return added.error();
    new_frames_ += *added;
    batch_.clear();
  }
  if (files_ != nullptr) files_->enforce();
  return ok_status();
}

}  // namespace kv::store
