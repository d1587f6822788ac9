// Writes the first N frames of a video to an MP4 (MPEG-4 part 2, via OpenCV's FFmpeg writer),
// so tests can damage a real MP4 without an ffmpeg binary. Usage: make_video IN OUT.mp4 N
#include <cstdio>
#include <cstdlib>

#include <opencv2/videoio.hpp>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: make_video IN OUT.mp4 N\n");
    return 2;
  }
  cv::VideoCapture in(argv[1], cv::CAP_FFMPEG);
  if (!in.isOpened()) {
    std::fprintf(stderr, "make_video: cannot open %s\n", argv[1]);
    return 1;
  }
  const cv::Size size(static_cast<int>(in.get(cv::CAP_PROP_FRAME_WIDTH)),
                      static_cast<int>(in.get(cv::CAP_PROP_FRAME_HEIGHT)));
  cv::VideoWriter out(argv[2], cv::CAP_FFMPEG, cv::VideoWriter::fourcc('m', 'p', '4', 'v'), 10.0,
                      size);
  if (!out.isOpened()) {
    std::fprintf(stderr, "make_video: cannot write %s\n", argv[2]);
    return 1;
  }
  cv::Mat frame;
  for (int i = 0; i < std::atoi(argv[3]) && in.read(frame); ++i) out.write(frame);
  return 0;
}
