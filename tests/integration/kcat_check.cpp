// Reads records printed by
//   kcat -C -f 'KVREC %p %o %S\n%h\n%s\n'
// from stdin and checks one camera's records (others are skipped): every sequence number
// 0..N-1 exactly once, every
// value a JPEG of the expected size, and the share of frames with a person detected.
// Usage: kcat_check --frames N --camera ID --width W --height H [--min-person-frac F]
// [--no-detections]
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "media/jpeg.h"
#include "wire/detection_record.h"
#include "wire/frame_headers.h"

namespace {

// kcat prints headers as "k=v,k=v"; all of ours start with "kv.", and the detection JSON
// (which holds commas) is split back together on that prefix.
kv::wire::Headers parse_headers(const std::string& line) {
  kv::wire::Headers out;
  size_t start = 0;
  while (start < line.size()) {
    size_t next = line.find(",kv.", start);
    const std::string item =
        line.substr(start, next == std::string::npos ? std::string::npos : next - start);
    const size_t eq = item.find('=');
    if (eq != std::string::npos) out.emplace_back(item.substr(0, eq), item.substr(eq + 1));
    if (next == std::string::npos) break;
    start = next + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t frames = 0;
  std::string camera;
  int width = 0;
  int height = 0;
  double min_person_frac = 0;
  bool want_detections = true;  // processed_images carries them; raw_video_frames does not
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--no-detections") {
      want_detections = false;
      continue;
    }
    if (i + 1 >= argc) break;
    const std::string v = argv[++i];
    if (k == "--frames")
      frames = std::stoll(v);
    else if (k == "--camera")
      camera = v;
    else if (k == "--width")
      width = std::stoi(v);
    else if (k == "--height")
      height = std::stoi(v);
    else if (k == "--min-person-frac")
      min_person_frac = std::stod(v);
  }
  std::map<int64_t, int> seen;
  int64_t records = 0;
  int64_t with_person = 0;
  int failures = 0;
  auto fail = [&](const std::string& msg) {
    if (++failures <= 10) std::cerr << "kcat_check: " << msg << "\n";
  };
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    int partition = 0;
    long long offset = 0;
    long long size = 0;
    if (std::sscanf(line.c_str(), "KVREC %d %lld %lld", &partition, &offset, &size) != 3) {
      fail("unexpected line: " + line.substr(0, 80));
      continue;
    }
    std::string header_line;
    std::getline(std::cin, header_line);
    std::vector<uint8_t> value(static_cast<size_t>(std::max(0LL, size)));
    std::cin.read(reinterpret_cast<char*>(value.data()),
                  static_cast<std::streamsize>(value.size()));
    std::cin.get();  // the newline after the value
    ++records;
    const std::string where = "record " + std::to_string(partition) + "@" + std::to_string(offset);
    auto meta = kv::wire::decode_frame_headers(parse_headers(header_line));
    if (!meta) {
      fail(where + ": " + meta.error().message);
      continue;
    }
    if (meta->camera != camera) {  // another camera's record: not ours to count
      --records;
      continue;
    }
    ++seen[meta->seq];
    auto img = kv::media::decode_jpeg(value);
    if (!img) {
      fail(where + ": " + img.error().message);
    } else if (img->cols != width || img->rows != height) {
      fail(where + ": JPEG is " + std::to_string(img->cols) + "x" + std::to_string(img->rows));
    }
    if (!want_detections) continue;
    const kv::wire::Headers headers = parse_headers(header_line);
    const std::string* json = kv::wire::find_header(headers, kv::wire::kHdrDetections);
    if (json == nullptr) {
      fail(where + ": no detections header");
      continue;
    }
    auto rec = kv::wire::decode_detection_record(*json);
    if (!rec) {
      fail(where + ": " + rec.error().message);
      continue;
    }
    if (rec->frame.seq != meta->seq) fail(where + ": detection record seq differs from header");
    bool person = false;
    for (const auto& d : rec->detections) person = person || d.label == "person";
    with_person += person ? 1 : 0;
  }
  int64_t missing = 0;
  int64_t duplicates = 0;
  for (int64_t s = 0; s < frames; ++s) {
    const auto it = seen.find(s);
    if (it == seen.end()) {
      ++missing;
    } else if (it->second > 1) {
      duplicates += it->second - 1;
    }
  }
  const int64_t unexpected = static_cast<int64_t>(seen.size()) - (frames - missing);
  const double person_frac =
      records > 0 ? static_cast<double>(with_person) / static_cast<double>(records) : 0;
  std::printf(
      "kcat_check: records=%lld missing=%lld duplicates=%lld unexpected_seq=%lld "
      "person_frames=%.3f\n",
      static_cast<long long>(records), static_cast<long long>(missing),
      static_cast<long long>(duplicates), static_cast<long long>(unexpected), person_frac);
  if (missing > 0 || duplicates > 0 || unexpected > 0)
    fail("sequence numbers are not exactly 0..N-1 once each");
  if (person_frac < min_person_frac) fail("too few frames with a person");
  return failures == 0 ? 0 : 1;
}
