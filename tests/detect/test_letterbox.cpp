#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "detect/letterbox.h"

namespace kv::detect {
namespace {

TEST(Letterbox, WideFramePadsBottom) {
  cv::Mat img(576, 768, CV_8UC3, cv::Scalar(200, 100, 50));
  cv::Mat canvas;
  const LetterboxInfo info = letterbox_top_left(img, {416, 416}, 114, canvas);
  EXPECT_FLOAT_EQ(info.scale, 416.0f / 768.0f);
  ASSERT_EQ(canvas.size(), cv::Size(416, 416));
  // int(576 * 416/768) = 312 rows of image, the rest padding.
  EXPECT_EQ(canvas.at<cv::Vec3b>(0, 0), cv::Vec3b(200, 100, 50));
  EXPECT_EQ(canvas.at<cv::Vec3b>(311, 415), cv::Vec3b(200, 100, 50));
  EXPECT_EQ(canvas.at<cv::Vec3b>(312, 0), cv::Vec3b(114, 114, 114));
  EXPECT_EQ(canvas.at<cv::Vec3b>(415, 415), cv::Vec3b(114, 114, 114));
}

TEST(Letterbox, TallFramePadsRight) {
  cv::Mat img(400, 100, CV_8UC3, cv::Scalar(1, 2, 3));
  cv::Mat canvas;
  const LetterboxInfo info = letterbox_top_left(img, {416, 416}, 114, canvas);
  EXPECT_FLOAT_EQ(info.scale, 416.0f / 400.0f);
  EXPECT_EQ(canvas.at<cv::Vec3b>(415, 0), cv::Vec3b(1, 2, 3));
  EXPECT_EQ(canvas.at<cv::Vec3b>(0, 200), cv::Vec3b(114, 114, 114));
}

TEST(Letterbox, BoxMapsBackToOriginalPixels) {
  LetterboxInfo info;
  info.scale = 416.0f / 768.0f;
  info.original = {768, 576};
  const cv::Rect2f in_model(104, 52, 52, 104);  // model pixels
  const cv::Rect2f out = unletterbox(in_model, info);
  EXPECT_NEAR(out.x, 192, 1e-3);
  EXPECT_NEAR(out.y, 96, 1e-3);
  EXPECT_NEAR(out.width, 96, 1e-3);
  EXPECT_NEAR(out.height, 192, 1e-3);
}

TEST(Letterbox, BoxIsClippedToTheFrame) {
  LetterboxInfo info;
  info.scale = 0.5f;
  info.original = {100, 100};
  const cv::Rect2f out = unletterbox(cv::Rect2f(-10, 40, 30, 40), info);  // spills left and bottom
  EXPECT_FLOAT_EQ(out.x, 0);
  EXPECT_FLOAT_EQ(out.width, 40);
  EXPECT_FLOAT_EQ(out.y, 80);
  EXPECT_FLOAT_EQ(out.height, 20);
}

TEST(Letterbox, RoundTripThroughTheCanvasFindsTheSameObject) {
  // A white square in a 640x480 frame must come back at the same place after letterboxing.
  cv::Mat img(480, 640, CV_8UC3, cv::Scalar::all(0));
  img(cv::Rect(320, 240, 64, 48)).setTo(cv::Scalar::all(255));
  cv::Mat canvas;
  const LetterboxInfo info = letterbox_top_left(img, {416, 416}, 114, canvas);
  cv::Mat mask;
  cv::inRange(canvas, cv::Scalar::all(200), cv::Scalar::all(255), mask);
  const cv::Rect found = cv::boundingRect(mask);
  const cv::Rect2f back = unletterbox(cv::Rect2f(found), info);
  EXPECT_NEAR(back.x, 320, 2);
  EXPECT_NEAR(back.y, 240, 2);
  EXPECT_NEAR(back.width, 64, 3);
  EXPECT_NEAR(back.height, 48, 3);
}

}  // namespace
}  // namespace kv::detect
