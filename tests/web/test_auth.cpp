// kvision web's users, sessions and failed-login limits, and the live view behind them.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "common/http.h"
#include "http_get.h"
#include "web/auth.h"
#include "web/live_state.h"
#include "web/web_app.h"

namespace kv::web {
namespace {
namespace fs = std::filesystem;
using kv::testing::http_exchange;

fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() / (name + "_" + std::to_string(::getpid()));
}

TEST(Users, PasswordsAreHashedVerifiedSavedPrivatelyAndRemoved) {
  const fs::path path = temp_file("kv_users");
  fs::remove(path);
  auto users = UserFile::load(path, /*may_be_missing=*/true);
  ASSERT_TRUE(users.ok());
  EXPECT_FALSE(UserFile::load(path).ok()) << "a missing file is an error unless allowed";
  ASSERT_TRUE(users->set("ana", "correct horse").ok());
  ASSERT_TRUE(users->set("bo@site", "battery staple").ok());
  EXPECT_FALSE(users->set("ana", "short").ok());
  EXPECT_FALSE(users->set("bad name", "long enough").ok());
  EXPECT_FALSE(users->set("x:y", "long enough").ok());
  ASSERT_TRUE(users->save(path).ok());
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.find("correct horse"), std::string::npos) << "the password itself is not kept";
  EXPECT_NE(text.find("ana:$argon2id$"), std::string::npos);

  auto loaded = UserFile::load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(loaded->names(), (std::vector<std::string>{"ana", "bo@site"}));
  EXPECT_TRUE(loaded->verify("ana", "correct horse"));
  EXPECT_FALSE(loaded->verify("ana", "correct horse "));
  EXPECT_FALSE(loaded->verify("ana", "battery staple"));
  EXPECT_FALSE(loaded->verify("nobody", "correct horse"));
  ASSERT_TRUE(loaded->remove("ana").ok());
  EXPECT_FALSE(loaded->remove("ana").ok());
  EXPECT_FALSE(loaded->verify("ana", "correct horse"));

  std::ofstream(path) << "ana:plaintext\n";
  auto bad = UserFile::load(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find(":1:"), std::string::npos) << bad.error().message;
  fs::remove(path);
}

TEST(Sessions, TokensAreRandomAndExpire) {
  Sessions sessions(std::chrono::seconds(1));
  const std::string a = sessions.create("ana");
  const std::string b = sessions.create("ana");
  EXPECT_EQ(a.size(), 64u);
  EXPECT_NE(a, b);
  EXPECT_EQ(sessions.user_of(a), "ana");
  sessions.end(a);
  EXPECT_FALSE(sessions.user_of(a).has_value());
  EXPECT_FALSE(sessions.user_of("guess").has_value());
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_FALSE(sessions.user_of(b).has_value()) << "expired";
}

TEST(LoginLimiter, LocksAnAddressAndANameAfterTooManyFailures) {
  LoginLimiter limiter(3, std::chrono::seconds(60));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(limiter.wait_seconds("10.0.0.1", "ana"), 0);
    limiter.failed("10.0.0.1", "ana");
  }
  EXPECT_GT(limiter.wait_seconds("10.0.0.1", "bo"), 0) << "the address is locked";
  EXPECT_GT(limiter.wait_seconds("10.0.0.2", "ana"), 0) << "so is the name, from anywhere";
  EXPECT_EQ(limiter.wait_seconds("10.0.0.2", "bo"), 0);
}

TEST(Cookies, ValuesAndFormFields) {
  EXPECT_EQ(http::cookie_value("a=1; kv_session=abc; b=2", "kv_session"), "abc");
  EXPECT_EQ(http::cookie_value("kv_session=abc", "kv_session"), "abc");
  EXPECT_FALSE(http::cookie_value("xkv_session=abc", "kv_session").has_value());
  EXPECT_FALSE(http::cookie_value("", "kv_session").has_value());
  const auto f = http::form_fields("user=ana&password=a+b%26c%3D&x");
  EXPECT_EQ(f.at("user"), "ana");
  EXPECT_EQ(f.at("password"), "a b&c=");
  EXPECT_EQ(f.count("x"), 0u);
}

// The live view with a user: what a client gets before, during and after a session.
TEST(WebAuth, EverythingButTheLoginNeedsASessionAndLogoutEndsStreams) {
  auto users = UserFile::load(temp_file("kv_none"), true);
  ASSERT_TRUE(users->set("ana", "correct horse").ok());
  Auth auth(std::move(*users), std::chrono::seconds(60));
  LiveState state;
  WebApp app(state, nullptr, {}, &auth);
  auto server = http::Server::start(
      "127.0.0.1:0", [&](const http::Request& r, http::Responder& out) { app.handle(r, out); });
  ASSERT_TRUE(server.ok());
  const int port = (*server)->port();
  auto status = [&](const std::string& request) {
    return http_exchange(port, request).substr(9, 3);
  };

  EXPECT_EQ(status("GET / HTTP/1.1\r\n\r\n"), "303");  // to /login
  EXPECT_NE(http_exchange(port, "GET / HTTP/1.1\r\n\r\n").find("Location: /login"),
            std::string::npos);
  for (const char* path :
       {"/app.js", "/api/cameras", "/api/alerts", "/api/status", "/api/events", "/api/me",
        "/api/cameras/lobby/latest.jpg", "/clips/a.mp4", "/api/query?label=person"}) {
    EXPECT_EQ(status(std::string("GET ") + path + " HTTP/1.1\r\n\r\n"), "401") << path;
  }
  EXPECT_EQ(status("GET /login HTTP/1.1\r\n\r\n"), "200");
  EXPECT_EQ(status("GET /app.css HTTP/1.1\r\n\r\n"), "200");
  EXPECT_EQ(status("GET /api/cameras HTTP/1.1\r\nCookie: kv_session=guess\r\n\r\n"), "401");

  auto post = [&](const std::string& body) {
    return http_exchange(port,
                         "POST /login HTTP/1.1\r\nContent-Type: "
                         "application/x-www-form-urlencoded\r\nContent-Length: " +
                             std::to_string(body.size()) + "\r\n\r\n" + body);
  };
  const std::string wrong = post("user=ana&password=wrong");
  EXPECT_EQ(wrong.substr(9, 3), "401");
  EXPECT_NE(wrong.find("Wrong user name or password"), std::string::npos);
  const std::string right = post("user=ana&password=correct+horse");
  ASSERT_EQ(right.substr(9, 3), "303") << right;
  const size_t at = right.find("Set-Cookie: kv_session=");
  ASSERT_NE(at, std::string::npos);
  const std::string token = right.substr(at + 23, 64);
  const std::string cookie_line = right.substr(at, right.find("\r\n", at) - at);
  EXPECT_NE(cookie_line.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie_line.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(cookie_line.find("Secure"), std::string::npos) << "plain HTTP: not Secure";
  const std::string with = "Cookie: kv_session=" + token + "\r\n";
  EXPECT_EQ(status("GET / HTTP/1.1\r\n" + with + "\r\n"), "200");
  EXPECT_NE(
      http_exchange(port, "GET /api/me HTTP/1.1\r\n" + with + "\r\n").find("\"user\":\"ana\""),
      std::string::npos);

  // A stream of the session ends when the session does.
  std::string streamed;
  std::thread viewer(
      [&] { streamed = http_exchange(port, "GET /api/events HTTP/1.1\r\n" + with + "\r\n"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const std::string out =
      http_exchange(port, "POST /logout HTTP/1.1\r\n" + with + "Content-Length: 0\r\n\r\n");
  EXPECT_EQ(out.substr(9, 3), "303");
  EXPECT_NE(out.find("Max-Age=0"), std::string::npos);
  viewer.join();  // returns: the server closed the stream
  EXPECT_NE(streamed.find("text/event-stream"), std::string::npos);
  EXPECT_EQ(status("GET /api/cameras HTTP/1.1\r\n" + with + "\r\n"), "401");

  // Five failures lock the address out, the right password included.
  for (int i = 0; i < 5; ++i) post("user=ana&password=nope");
  const std::string locked = post("user=ana&password=correct+horse");
  EXPECT_EQ(locked.substr(9, 3), "429");
  EXPECT_NE(locked.find("Retry-After: "), std::string::npos);
}

}  // namespace
}  // namespace kv::web
