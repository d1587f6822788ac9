#include "common/stop.h"

#include <unistd.h>
#include <atomic>
#include <csignal>

namespace kv {
namespace {
std::atomic<int> g_signals{0};
std::atomic<bool> g_requested{false};
std::atomic<bool> g_reload{false};

void on_hangup(int) {
  g_reload.store(true);
}

void on_signal(int) {
  if (g_signals.fetch_add(1) >= 1) {
    static const char kMsg[] = "kvision: second signal, exiting without flushing\n";
    (void)!write(2, kMsg, sizeof kMsg - 1);
    _exit(130);
  }
}
}  // namespace

void install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

bool stop_requested() {
  return g_signals.load(std::memory_order_relaxed) > 0 ||
         g_requested.load(std::memory_order_relaxed);
}
void request_stop() {
  g_requested.store(true);
}

void install_reload_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_hangup;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGHUP, &sa, nullptr);
}

bool take_reload_request() {
  return g_reload.exchange(false);
}

}  // namespace kv
