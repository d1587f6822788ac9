#include "media/video_writer.h"

#include <unistd.h>

#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <fmt/format.h>

namespace kv::media {
namespace fs = std::filesystem;

struct Mp4Writer::Impl {
  fs::path path;
  fs::path temp;
  cv::Size size;
  cv::VideoWriter writer;
  bool closed = false;
};

Mp4Writer::Mp4Writer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Mp4Writer::~Mp4Writer() {
  if (!impl_->closed) {
    impl_->writer.release();
    std::error_code ec;
    fs::remove(impl_->temp, ec);
  }
}

Result<std::unique_ptr<Mp4Writer>> Mp4Writer::open(const fs::path& path, double fps,
                                                   cv::Size size) {
  if (fps <= 0 || size.width <= 0 || size.height <= 0) {
    return make_error(ErrorCode::kInvalidArgument, fmt::format("cannot write {}x{} video at {} fps",
                                                               size.width, size.height, fps));
  }
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  // The same directory, so the rename is atomic; FFmpeg picks the container by extension.
  impl->temp = path.parent_path() / fmt::format(".{}.{}.part.mp4", path.filename().string(),
                                                static_cast<long>(::getpid()));
  impl->size = size;
  // libx264 needs even dimensions in 4:2:0.
  impl->size.width &= ~1;
  impl->size.height &= ~1;
  if (!impl->writer.open(impl->temp.string(), cv::CAP_FFMPEG,
                         cv::VideoWriter::fourcc('a', 'v', 'c', '1'), fps, impl->size)) {
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot write H.264 to '{}': OpenCV's FFmpeg backend has no "
                                  "H.264 encoder (libx264) or the directory is not writable",
                                  path.string()));
  }
  return std::unique_ptr<Mp4Writer>(new Mp4Writer(std::move(impl)));
}

Status Mp4Writer::write(const cv::Mat& bgr) {
  if (bgr.empty() || bgr.type() != CV_8UC3)
    return make_error(ErrorCode::kInvalidArgument, "a clip frame must be a BGR image");
  if (bgr.size() == impl_->size) {
    impl_->writer.write(bgr);
  } else {
    cv::Mat scaled;
    cv::resize(bgr, scaled, impl_->size, 0, 0, cv::INTER_AREA);
    impl_->writer.write(scaled);
  }
  ++frames_;
  return ok_status();
}

Status Mp4Writer::close() {
  impl_->writer.release();
  impl_->closed = true;
  std::error_code ec;
  if (frames_ == 0 || !fs::exists(impl_->temp) || fs::file_size(impl_->temp, ec) == 0) {
    fs::remove(impl_->temp, ec);
    return make_error(ErrorCode::kIo,
                      fmt::format("no video was written to '{}'", impl_->path.string()));
  }
  fs::rename(impl_->temp, impl_->path, ec);
  if (ec) {
    const std::string why = ec.message();
    fs::remove(impl_->temp, ec);
    return make_error(ErrorCode::kIo,
                      fmt::format("cannot write '{}': {}", impl_->path.string(), why));
  }
  return ok_status();
}

}  // namespace kv::media
