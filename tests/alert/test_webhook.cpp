#include "alert/webhook.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace kv::alert {
namespace {

// A receiver on a real socket that answers the given statuses in turn and keeps the bodies.
class Receiver {
 public:
  explicit Receiver(std::vector<int> statuses) : statuses_(std::move(statuses)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&in), sizeof in), 0);
    ::listen(fd_, 8);
    socklen_t len = sizeof in;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&in), &len);
    port_ = ntohs(in.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~Receiver() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }
  std::vector<std::string> bodies;

 private:
  void serve() {
    for (int status : statuses_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string req;
      char buf[4096];
      ssize_t n;
      while ((n = ::recv(c, buf, sizeof buf, 0)) > 0) {
        req.append(buf, static_cast<size_t>(n));
        const size_t head = req.find("\r\n\r\n");
        const size_t cl = req.find("Content-Length: ");
        if (head != std::string::npos && cl != std::string::npos &&
            req.size() >= head + 4 + std::stoul(req.substr(cl + 16))) {
          break;
        }
      }
      bodies.push_back(req.substr(req.find("\r\n\r\n") + 4));
      const std::string answer =
          "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: 0\r\n\r\n";
      ::send(c, answer.data(), answer.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }
  std::vector<int> statuses_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

TEST(Webhook, SignatureIsHmacSha256OfTimestampDotBody) {
  const std::string secret = "s3cret";
  const std::string body = R"({"rule":"door"})";
  // The same MAC from another library (OpenSSL), over "<timestamp>.<body>".
  const std::string message = "1796300000." + body;
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  std::string hex = "sha256=";
  for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", mac[i]);
  EXPECT_EQ(webhook_signature(secret, 1796300000, body), hex);
  EXPECT_NE(webhook_signature(secret, 1796300001, body), hex) << "the timestamp is signed";
  EXPECT_NE(webhook_signature("other", 1796300000, body), hex);
}

TEST(Webhook, ParsesUrls) {
  auto u = parse_http_url("http://example.org:8080/hooks/kv");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "example.org");
  EXPECT_EQ(u->port, 8080);
  EXPECT_EQ(u->path, "/hooks/kv");
  EXPECT_EQ(parse_http_url("http://h")->path, "/");
  EXPECT_NE(parse_http_url("https://h/x").error().message.find("https is not supported"),
            std::string::npos);
  EXPECT_FALSE(parse_http_url("ftp://h"));
  EXPECT_FALSE(parse_http_url("http://h:99999/"));
}

TEST(Webhook, RetriesServerErrorsWithBackoffThenDelivers) {
  Receiver r({503, 500, 200});
  {
    auto w = Webhook::create("http://127.0.0.1:" + std::to_string(r.port()) + "/hook", 5, 20);
    ASSERT_TRUE(w);
    (*w)->post(R"({"rule":"a"})");
    for (int i = 0; i < 200 && (*w)->stats().delivered == 0; ++i) usleep(10000);
    const WebhookStats s = (*w)->stats();
    EXPECT_EQ(s.delivered, 1);
    EXPECT_EQ(s.attempts, 3);
    EXPECT_EQ(s.failed, 0);
  }
  ASSERT_EQ(r.bodies.size(), 3u);
  EXPECT_EQ(r.bodies[2], R"({"rule":"a"})");
}

TEST(Webhook, GivesUpAfterTheRetriesAndOnClientErrors) {
  Receiver r({500, 500, 400});
  auto w = Webhook::create("http://127.0.0.1:" + std::to_string(r.port()) + "/", 1, 10);
  ASSERT_TRUE(w);
  (*w)->post("{}");  // 500, 500: given up after one retry
  (*w)->post("{}");  // 400: not retried
  for (int i = 0; i < 200 && (*w)->stats().failed < 2; ++i) usleep(10000);
  EXPECT_EQ((*w)->stats().failed, 2);
  EXPECT_EQ((*w)->stats().attempts, 3);
}

TEST(Webhook, NobodyListeningIsAnError) {
  auto posted = http_post({"127.0.0.1", 1, "/"}, "{}", 1000);
  EXPECT_FALSE(posted);
}

}  // namespace
}  // namespace kv::alert
