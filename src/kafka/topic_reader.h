// Reading a topic whole, outside any consumer group: a consumer assigned every partition
// (manual assignment), nothing committed. For audits and checks that need what a topic holds
// now, not a share of a group's work.
#pragma once

#include <functional>
#include <string>

#include "common/result.h"
#include "kafka/config.h"
#include "kafka/handles.h"

namespace kv::kafka {

struct ReadToEndOptions {
  bool committed = false;       // isolation.level=read_committed
  bool may_be_missing = false;  // a missing topic reads as empty instead of an error
  int idle_timeout_s = 60;      // give up after this long without a record or an end
};

// Calls `fn` for every record of `topic`, from the beginning of each partition to the end it
// has when first reached. Errors: a missing topic (unless may_be_missing), a fetch error, or
// nothing received for idle_timeout_s.
Status read_to_end(const KafkaConfig& config, const std::string& topic,
                   const ReadToEndOptions& options,
                   const std::function<void(const rd_kafka_message_t*)>& fn);

}  // namespace kv::kafka
