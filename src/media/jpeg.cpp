#include "media/jpeg.h"

#include <csetjmp>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>
// libjpeg (libjpeg-turbo here) needs FILE and size_t declared first.
#include <jpeglib.h>

namespace kv::media {

bool looks_like_jpeg(std::span<const uint8_t> bytes) {
  return bytes.size() >= 4 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF;
}

Result<cv::Size> jpeg_dimensions(std::span<const uint8_t> b) {
  if (!looks_like_jpeg(b)) return make_error(ErrorCode::kDecode, "not a JPEG (no SOI marker)");
  size_t i = 2;
  while (i + 4 <= b.size()) {
    if (b[i] != 0xFF) {  // extraneous bytes between segments: libjpeg skips them, so do we
      ++i;
      continue;
    }
    const uint8_t marker = b[i + 1];
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // no length field
      i += 2;
      continue;
    }
    const size_t length = static_cast<size_t>(b[i + 2]) << 8 | b[i + 3];
    if (length < 2 || i + 2 + length > b.size()) break;
    const bool sof =
        marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      if (length < 7) break;
      const int height = b[i + 5] << 8 | b[i + 6];
      const int width = b[i + 7] << 8 | b[i + 8];
      return cv::Size(width, height);
    }
    if (marker == 0xDA || marker == 0xD9) break;  // scan data or end before any frame header
    i += 2 + length;
  }
  return make_error(ErrorCode::kDecode, "JPEG has no readable frame header");
}

namespace {

// The checks every decode makes first: JPEG magic, an EOI marker (a complete file) and a frame
// header within kvision's size limits. Returns the frame's size.
Result<cv::Size> check_jpeg(std::span<const uint8_t> bytes) {
  if (!looks_like_jpeg(bytes)) {
    return make_error(ErrorCode::kDecode,
                      fmt::format("value is not a JPEG ({} bytes, no SOI marker)", bytes.size()));
  }
  // An EOI marker at the end tells a complete image from a truncated one, which libjpeg
  // would otherwise pad with grey and report as success.
  const size_t n = bytes.size();
  if (!(bytes[n - 2] == 0xFF && bytes[n - 1] == 0xD9)) {
    return make_error(ErrorCode::kDecode,
                      fmt::format("JPEG is truncated ({} bytes, no EOI marker)", n));
  }
  auto size = jpeg_dimensions(bytes);
  if (!size) return size.error();
  if (size->width < 1 || size->height < 1 || size->width > kMaxJpegSide ||
      size->height > kMaxJpegSide ||
      static_cast<int64_t>(size->width) * size->height > kMaxJpegPixels) {
    return make_error(ErrorCode::kDecode,
                      fmt::format("JPEG claims {}x{} pixels: outside what kvision decodes "
                                  "(1..{} per side, {} pixels)",
                                  size->width, size->height, kMaxJpegSide, kMaxJpegPixels));
  }
  return size;
}

// libjpeg reports fatal errors through error_exit, which must not return: it jumps back.
struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void on_jpeg_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

void ignore_jpeg_message(j_common_ptr /*cinfo*/) {}  // warnings: decode what is there, as OpenCV

// Decodes with libjpeg at scale num/8 into `out` (BGR). Only trivially destructible state lives
// between setjmp and longjmp. Returns false with `message` set on a fatal error.
bool libjpeg_decode(const uint8_t* data, size_t size, int num, cv::Mat& out, char* message) {
  jpeg_decompress_struct cinfo{};
  JpegError err{};
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = on_jpeg_error;
  err.mgr.output_message = ignore_jpeg_message;
  if (setjmp(err.jump) != 0) {
    jpeg_destroy_decompress(&cinfo);
    std::snprintf(message, JMSG_LENGTH_MAX, "%s", err.message);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = JCS_EXT_BGR;
  cinfo.scale_num = static_cast<unsigned>(num);
  cinfo.scale_denom = 8;
  jpeg_start_decompress(&cinfo);
  out.create(static_cast<int>(cinfo.output_height), static_cast<int>(cinfo.output_width), CV_8UC3);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out.ptr<uint8_t>(static_cast<int>(cinfo.output_scanline));
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

// The buffer libjpeg's memory destination mallocs and grows. Owned by the caller of
// libjpeg_encode: a local of the function that calls setjmp, changed after it, would have no
// defined value after the jump.
struct EncodedBuffer {
  unsigned char* data = nullptr;
  unsigned long size = 0;
  EncodedBuffer() = default;
  EncodedBuffer(const EncodedBuffer&) = delete;
  EncodedBuffer& operator=(const EncodedBuffer&) = delete;
  ~EncodedBuffer() { std::free(data); }
};

// Encodes rows of `image` with libjpeg into `buffer`. Returns false with `message` set on a
// fatal error.
bool libjpeg_encode(const cv::Mat& image, J_COLOR_SPACE space, int quality, EncodedBuffer& buffer,
                    char* message) {
  jpeg_compress_struct cinfo{};
  JpegError err{};
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = on_jpeg_error;
  err.mgr.output_message = ignore_jpeg_message;
  if (setjmp(err.jump) != 0) {
    jpeg_destroy_compress(&cinfo);
    std::snprintf(message, JMSG_LENGTH_MAX, "%s", err.message);
    return false;
  }
  jpeg_create_compress(&cinfo);
  jpeg_mem_dest(&cinfo, &buffer.data, &buffer.size);
  cinfo.image_width = static_cast<JDIMENSION>(image.cols);
  cinfo.image_height = static_cast<JDIMENSION>(image.rows);
  cinfo.input_components = image.channels();
  cinfo.in_color_space = space;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height) {
    // libjpeg only reads the rows; its signature lacks the const.
    JSAMPROW row = const_cast<uint8_t*>(image.ptr<uint8_t>(static_cast<int>(cinfo.next_scanline)));
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  return true;
}

// Bytes that passed check_jpeg, decoded at num/8.
Result<cv::Mat> decode_at_scale(std::span<const uint8_t> bytes, int num) {
  cv::Mat out;
  char message[JMSG_LENGTH_MAX] = {};
  if (!libjpeg_decode(bytes.data(), bytes.size(), num, out, message)) {
    return make_error(ErrorCode::kDecode,
                      fmt::format("corrupt JPEG ({} bytes): {}", bytes.size(), message));
  }
  return out;
}

}  // namespace

Result<std::vector<uint8_t>> encode_jpeg(const cv::Mat& image, int quality) {
  if (image.empty()) return make_error(ErrorCode::kInvalidArgument, "cannot encode an empty image");
  if (quality < 1 || quality > 100) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("JPEG quality {} is outside 1..100", quality));
  }
  J_COLOR_SPACE space = JCS_UNKNOWN;
  switch (image.type()) {
    case CV_8UC1:
      space = JCS_GRAYSCALE;
      break;
    case CV_8UC3:
      space = JCS_EXT_BGR;
      break;
    case CV_8UC4:
      space = JCS_EXT_BGRA;
      break;
    default:
      return make_error(ErrorCode::kInvalidArgument,
                        fmt::format("cannot encode a {}-channel image of depth {} as JPEG "
                                    "(8-bit grey, BGR or BGRA only)",
                                    image.channels(), image.depth()));
  }
  // libjpeg directly: the bytes cv::imencode makes, in 0.82 ms for a 768x576 frame against
  // its 1.21 (bench_steps: BM_JpegEncodeQ80).
  EncodedBuffer buffer;
  char message[JMSG_LENGTH_MAX] = {};
  if (!libjpeg_encode(image, space, quality, buffer, message)) {
    return make_error(ErrorCode::kIo, fmt::format("JPEG encoder failed: {}", message));
  }
  return std::vector<uint8_t>(buffer.data, buffer.data + buffer.size);
}

Result<cv::Mat> decode_jpeg_at_least(std::span<const uint8_t> bytes, cv::Size at_least,
                                     cv::Size* original) {
  return decode_jpeg_at_least(
      bytes, [at_least](cv::Size) { return at_least; }, original);
}

Result<cv::Mat> decode_jpeg_at_least(std::span<const uint8_t> bytes,
                                     const std::function<cv::Size(cv::Size frame)>& needed,
                                     cv::Size* original) {
  auto size = check_jpeg(bytes);
  if (!size) return size.error();
  if (original != nullptr) *original = *size;
  const cv::Size at_least = needed(*size);
  // libjpeg's scaled size is ceil(side * num / 8).
  auto covers = [&](int num) {
    return (size->width * num + 7) / 8 >= at_least.width &&
           (size->height * num + 7) / 8 >= at_least.height;
  };
  // Only the power-of-two scales: libjpeg-turbo has SIMD IDCTs for 8/8, 4/8, 2/8 and 1/8
  // alone. The others run plain C (with 4:2:0 chroma at twice the size, 5/8 is a 5x5 and a
  // 10x10 IDCT), so 5/8 of a 768x576 frame takes 1.5x as long as all of it
  // (bench_steps: BM_JpegDecodeAtScale).
  int num = 8;
  while (num > 1 && covers(num / 2)) num /= 2;
  return decode_at_scale(bytes, num);
}

Result<cv::Mat> decode_jpeg(std::span<const uint8_t> bytes) {
  // The same libjpeg call at 8/8: 1.2 ms for a 768x576 frame, where cv::imdecode took 3.1
  // (bench_steps: BM_JpegDecodeFull, before and after).
  auto size = check_jpeg(bytes);
  if (!size) return size.error();
  return decode_at_scale(bytes, 8);
}

}  // namespace kv::media
