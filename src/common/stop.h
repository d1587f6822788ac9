// Process stop signal: SIGINT and SIGTERM set a flag that long-running commands poll.
// The handler only stores to an atomic (async-signal-safe); everything else happens on the
// threads that poll stop_requested().
#pragma once

namespace kv {

// Installs handlers for SIGINT and SIGTERM. A second signal exits the process at once.
void install_stop_handlers();
bool stop_requested();
// Lets code (and tests) request the same orderly stop that a signal would.
void request_stop();

// SIGHUP asks a long-running command to reload its configuration: the handler sets a flag,
// take_reload_request() reads and clears it.
void install_reload_handler();
bool take_reload_request();

}  // namespace kv
