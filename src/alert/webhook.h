// Posting alerts to a webhook (plain HTTP): on a thread of its own, so a slow or dead receiver
// never holds up the alert stream, with retries and exponential backoff.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/result.h"

namespace kv::alert {

struct HttpUrl {
  std::string host;
  int port = 80;
  std::string path = "/";
};

// http://HOST[:PORT][/PATH]; https is refused with a clear message (put a TLS proxy in front).
Result<HttpUrl> parse_http_url(const std::string& url);

// One POST of a JSON body, with extra header lines ("Name: value\r\n" each); returns the HTTP
// status (or an error for no answer at all).
Result<int> http_post(const HttpUrl& url, const std::string& body, int timeout_ms,
                      const std::string& extra_headers = "");

// The signature a receiver checks: "sha256=" and the hex HMAC-SHA256, keyed by the shared
// secret, of "<timestamp>.<body>" (sent as X-Kvision-Timestamp and X-Kvision-Signature; the
// timestamp, in seconds since the epoch, lets a receiver refuse old replays).
std::string webhook_signature(const std::string& secret, int64_t timestamp_s,
                              const std::string& body);

struct WebhookStats {
  int64_t delivered = 0;
  int64_t failed = 0;    // given up after every retry
  int64_t attempts = 0;  // POSTs sent, retries included
};

// Lifecycle: create() -> post()* -> destroy (waits up to drain_ms for what is queued).
// Thread-safety: post() and stats() from any thread.
class Webhook {
 public:
  // retries: attempts after the first; backoff starts at backoff_ms and doubles (to 30 s).
  // With a `secret`, every POST is signed (webhook_signature).
  static Result<std::unique_ptr<Webhook>> create(const std::string& url, int retries,
                                                 int backoff_ms, std::string secret = "");
  ~Webhook();
  Webhook(const Webhook&) = delete;
  Webhook& operator=(const Webhook&) = delete;

  void post(std::string body);
  WebhookStats stats() const;

  int drain_ms = 15000;

 private:
  Webhook() = default;
  void run();
  bool deliver(const std::string& body);  // false: given up (or stopping)

  HttpUrl url_;
  std::string secret_;
  int retries_ = 0;
  int backoff_ms_ = 500;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::string> queue_;
  bool draining_ = false;
  int64_t drain_deadline_us_ = 0;
  WebhookStats stats_;
  std::thread thread_;
};

}  // namespace kv::alert
