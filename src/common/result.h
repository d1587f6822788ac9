// Result<T> and Status: expected failures as values (GCC 12 has no std::expected).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "common/assert.h"

namespace kv {

// What went wrong, coarsely; the CLI maps kInvalidArgument/kNotFound to exit code 2.
enum class ErrorCode {
  kInvalidArgument,  // bad flag, bad config, malformed input from the user
  kNotFound,         // a file, model or topic that does not exist
  kIo,               // reading or writing failed
  kDecode,           // bytes that are not what they claim (video, JPEG, record)
  kKafka,            // the Kafka client or broker reported an error
  kModel,            // the model failed to load or its output has the wrong shape
  kTimeout,
  kCancelled,
  kInternal,
};

const char* error_code_name(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

inline Error make_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    KV_ASSERT(ok(), "value() on an error Result: " + std::get<1>(state_).message);
    return std::get<0>(state_);
  }
  const T& value() const& {
    KV_ASSERT(ok(), "value() on an error Result: " + std::get<1>(state_).message);
    return std::get<0>(state_);
  }
  T&& value() && {
    KV_ASSERT(ok(), "value() on an error Result: " + std::get<1>(state_).message);
    return std::get<0>(std::move(state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  const Error& error() const {
    KV_ASSERT(!ok(), "error() on an ok Result");
    return std::get<1>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  template <class T>
  Status(const Result<T>& r) {  // NOLINT(google-explicit-constructor)
    if (!r.ok()) error_ = r.error();
  }

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const {
    KV_ASSERT(!ok(), "error() on an ok Status");
    return *error_;
  }

 private:
  std::optional<Error> error_;
};

inline Status ok_status() {
  return Status();
}

}  // namespace kv
