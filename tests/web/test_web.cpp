#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/http.h"
#include "http_get.h"
#include "web/assets.h"
#include "web/live_state.h"

namespace kv::web {
namespace {

using kv::testing::http_exchange;

TEST(Http, ParsesRequestsAndQueries) {
  http::Request r;
  ASSERT_TRUE(
      http::parse_request("GET /api/query?zone=0,0%201,1&label=person&x HTTP/1.1\r\n\r\n", r));
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/api/query");
  EXPECT_EQ(r.query.at("zone"), "0,0 1,1");
  EXPECT_EQ(r.query.at("label"), "person");
  EXPECT_EQ(r.query.at("x"), "");
  EXPECT_EQ(http::url_decode("a+b%2Fc%zz"), "a b/c%zz");
  // Split before decoding: an encoded '/' stays in its segment; '+' is a space only in queries.
  ASSERT_TRUE(http::parse_request(
      "GET /api/cameras/site1%2Flobby/frames/7.jpg?q=a+b HTTP/1.1\r\nLast-Event-ID: 42\r\n"
      "Host: x\r\n\r\n",
      r));
  EXPECT_EQ(r.segments,
            (std::vector<std::string>{"api", "cameras", "site1/lobby", "frames", "7.jpg"}));
  EXPECT_EQ(r.query.at("q"), "a b");
  EXPECT_EQ(r.headers.at("last-event-id"), "42");
  EXPECT_EQ(r.headers.at("host"), "x");
  ASSERT_TRUE(http::parse_request("GET /a+b HTTP/1.1\r\n\r\n", r));
  EXPECT_EQ(r.path, "/a+b");
  EXPECT_FALSE(http::parse_request("nonsense", r));
  EXPECT_FALSE(http::parse_request("GET nopath HTTP/1.1\r\n\r\n", r));
}

TEST(Http, ServesGetHeadAndStreamsUntilStopped) {
  std::atomic<int> streamed{0};
  auto server =
      http::Server::start("127.0.0.1:0", [&](const http::Request& r, http::Responder& out) {
        if (r.path == "/stream") {
          out.start_stream("text/event-stream");
          while (out.write("data: x\n\n")) {
            ++streamed;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
          }
          return;
        }
        if (r.path == "/throw") throw std::runtime_error("a handler's bug");
        out.send(200, "text/plain", "hello " + (r.query.count("n") ? r.query.at("n") : "") + "\n");
      });
  ASSERT_TRUE(server.ok()) << server.error().message;
  const int port = (*server)->port();
  const std::string get = http_exchange(port, "GET /x?n=kv HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(get.substr(0, 15), "HTTP/1.1 200 OK");
  EXPECT_NE(get.find("Content-Length: 9\r\n"), std::string::npos);
  EXPECT_EQ(get.substr(get.size() - 9), "hello kv\n");
  const std::string head = http_exchange(port, "HEAD /x HTTP/1.1\r\n\r\n");
  EXPECT_NE(head.find("Content-Length: 7\r\n"), std::string::npos);
  EXPECT_EQ(head.substr(head.size() - 4), "\r\n\r\n");  // no body
  EXPECT_EQ(http_exchange(port, "PUT /x HTTP/1.1\r\n\r\n").substr(0, 12), "HTTP/1.1 405");
  EXPECT_EQ(http_exchange(port, "POST /x HTTP/1.1\r\n\r\n").substr(0, 12), "HTTP/1.1 411");
  EXPECT_EQ(http_exchange(port, "garbage\r\n\r\n").substr(0, 12), "HTTP/1.1 400");
  EXPECT_EQ(http_exchange(port, "GET /throw HTTP/1.1\r\n\r\n").substr(0, 12), "HTTP/1.1 500");
  // HEAD on a stream: the headers, then the end.
  EXPECT_NE(http_exchange(port, "HEAD /stream HTTP/1.1\r\n\r\n").find("text/event-stream"),
            std::string::npos);
  // A stream runs until the server stops; stopping ends it and returns.
  std::string got;
  std::thread viewer([&] { got = http_exchange(port, "GET /stream HTTP/1.1\r\n\r\n"); });
  while (streamed.load() < 3) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  (*server)->stop();
  viewer.join();
  EXPECT_NE(got.find("text/event-stream"), std::string::npos);
  EXPECT_NE(got.find("data: x\n\ndata: x\n\n"), std::string::npos);
  EXPECT_FALSE(http::Server::start("127.0.0.1:99999", nullptr).ok());
}

TEST(Http, LimitsAnswerWithTheirStatusAndEveryResponseHasSecurityHeaders) {
  std::string body_seen;
  http::ServerOptions options;
  options.max_connections = 2;
  options.max_header_bytes = 1024;
  options.max_body_bytes = 100;
  std::atomic<bool> hold{true};
  auto server = http::Server::start(
      "127.0.0.1:0",
      [&](const http::Request& r, http::Responder& out) {
        if (r.path == "/hold") {
          while (hold.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        body_seen = r.body;
        out.send(200, "text/plain", "ok from " + r.peer);
      },
      options);
  ASSERT_TRUE(server.ok()) << server.error().message;
  const int port = (*server)->port();
  const std::string ok = http_exchange(port, "GET / HTTP/1.1\r\n\r\n");
  EXPECT_NE(ok.find("ok from 127.0.0.1"), std::string::npos);
  for (const char* h : {"X-Content-Type-Options: nosniff", "X-Frame-Options: DENY",
                        "frame-ancestors 'none'", "script-src 'self'", "Referrer-Policy"}) {
    EXPECT_NE(ok.find(h), std::string::npos) << h;
  }
  // A head over the limit: 431, however it arrives.
  const std::string big(2000, 'a');
  EXPECT_EQ(http_exchange(port, "GET / HTTP/1.1\r\nX-Big: " + big + "\r\n\r\n").substr(0, 12),
            "HTTP/1.1 431");
  EXPECT_EQ(http_exchange(port, "GET / HTTP/1.1\r\nX-Big: " + big).substr(0, 12), "HTTP/1.1 431");
  // Bodies: read to their Content-Length; over the limit 413; a bad length 400.
  EXPECT_EQ(
      http_exchange(port, "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello+extra").substr(0, 12),
      "HTTP/1.1 200");
  EXPECT_EQ(body_seen, "hello");
  EXPECT_EQ(http_exchange(port, "POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n").substr(0, 12),
            "HTTP/1.1 413");
  EXPECT_EQ(http_exchange(port, "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n").substr(0, 12),
            "HTTP/1.1 400");
  // Connections over the limit: 503 while two are held.
  std::thread a([&] { http_exchange(port, "GET /hold HTTP/1.1\r\n\r\n"); });
  std::thread b([&] { http_exchange(port, "GET /hold HTTP/1.1\r\n\r\n"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(http_exchange(port, "GET / HTTP/1.1\r\n\r\n").substr(0, 12), "HTTP/1.1 503");
  hold = false;
  a.join();
  b.join();
  EXPECT_EQ(http_exchange(port, "GET / HTTP/1.1\r\n\r\n").substr(0, 12), "HTTP/1.1 200");
  // TLS needs both halves, and files that exist.
  http::ServerOptions half;
  half.tls_cert = "cert.pem";
  EXPECT_FALSE(http::Server::start("127.0.0.1:0", nullptr, half).ok());
  half.tls_key = "/nonexistent/key.pem";
  auto missing = http::Server::start("127.0.0.1:0", nullptr, half);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("--tls-cert"), std::string::npos);
  EXPECT_TRUE(http::is_loopback("127.0.0.1"));
  EXPECT_TRUE(http::is_loopback("localhost"));
  EXPECT_FALSE(http::is_loopback("0.0.0.0"));
  EXPECT_FALSE(http::is_loopback("192.168.1.5"));
}

wire::DetectionRecord frame(const std::string& camera, int64_t seq, int persons) {
  wire::DetectionRecord r;
  r.frame.camera = camera;
  r.frame.session_us = 1;
  r.frame.seq = seq;
  r.frame.capture_us = 1'000'000 + seq;
  r.frame.width = 64;
  r.frame.height = 48;
  for (int i = 0; i < persons; ++i) r.detections.push_back({0, "person", 0.9F, {1, 2, 3, 4}});
  r.detections.push_back({2, "car", 0.5F, {5, 6, 7, 8}});
  return r;
}

TEST(LiveState, NewestFrameCountsHistoryAndEvents) {
  LiveState state(3, 5, 2);
  const int64_t before = state.last_event_id();
  state.add_frame(frame("lobby", 0, 2), "jpeg0", 1'000'000);
  state.add_frame(frame("lobby", 2, 4), "jpeg2", 1'000'000);
  state.add_frame(frame("lobby", 1, 3), "jpeg1", 1'000'000);  // late: kept, but not the newest
  const auto cams = nlohmann::json::parse(state.cameras_json());
  ASSERT_EQ(cams.size(), 1U);
  EXPECT_EQ(cams[0]["seq"], 2);
  EXPECT_EQ(cams[0]["counts"]["person"], 4);
  EXPECT_EQ(cams[0]["counts"]["car"], 1);
  EXPECT_EQ(cams[0]["image"], "/api/cameras/lobby/frames/2.jpg");
  EXPECT_EQ(*state.jpeg("lobby", 1), "jpeg1");
  EXPECT_EQ(*state.jpeg("lobby", -1), "jpeg2");
  state.add_frame(frame("lobby", 3, 0), "jpeg3", 1'000'000);
  EXPECT_FALSE(state.jpeg("lobby", 0).has_value());  // only 3 kept
  EXPECT_FALSE(state.jpeg("nobody", -1).has_value());
  EXPECT_EQ(nlohmann::json::parse(*state.history_json("lobby")).size(), 4U);
  // Events: one per frame that became the newest (not the late one), then alerts.
  state.add_alert(R"({"rule":"a"})", 0);
  state.add_alert(R"({"rule":"b"})", 0);
  state.add_alert(R"({"rule":"c"})", 0);
  EXPECT_EQ(nlohmann::json::parse(state.alerts_json()).size(), 2U);  // 2 kept
  const std::vector<Event> events = state.events_after(before, 0);
  std::vector<std::string> types;
  for (const Event& e : events) types.push_back(e.type);
  EXPECT_EQ(types,
            (std::vector<std::string>{"frame", "frame", "frame", "alert", "alert", "alert"}));
  EXPECT_TRUE(state.events_after(events.back().id, 10).empty());  // waits, then nothing new
}

TEST(LiveState, CountsTheFramesTheDetectorsSkipped) {
  LiveState state(3, 5, 2);
  state.add_frame(frame("gate", 0, 1), "j", 1'000'000);
  wire::DetectionRecord after_gap = frame("gate", 4, 1);
  after_gap.skipped_before = 3;  // frames 1-3 were skipped as stale
  state.add_frame(after_gap, "j", 1'000'000);
  const auto cams = nlohmann::json::parse(state.cameras_json());
  ASSERT_EQ(cams.size(), 1U);
  EXPECT_EQ(cams[0]["frames_seen"], 2);
  EXPECT_EQ(cams[0]["frames_skipped"], 3);
}

TEST(Assets, ThePageIsCompiledIn) {
  ASSERT_TRUE(asset("index.html").has_value());
  EXPECT_NE(asset("index.html")->find("<script src=\"/app.js\"></script>"), std::string_view::npos);
  EXPECT_NE(asset("app.js")->find("EventSource"), std::string_view::npos);
  EXPECT_FALSE(asset("missing.js").has_value());
}

}  // namespace
}  // namespace kv::web
