// Topics on disk: per-topic configs, their persistence, deletion and start-up clean-up.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "batch_builder.h"
#include "broker/topic_config.h"
#include "broker/topic_store.h"

namespace kv::broker {
namespace {
namespace fs = std::filesystem;

TEST(TopicConfig, ValidatesNamesAndValues) {
  EXPECT_TRUE(validate_override("retention.ms", "-1").ok());
  EXPECT_TRUE(validate_override("retention.bytes", "1048576").ok());
  EXPECT_TRUE(validate_override("cleanup.policy", "delete").ok());
  EXPECT_TRUE(validate_override("cleanup.policy", "compact").ok());
  EXPECT_TRUE(validate_override("cleanup.policy", "compact,delete").ok());
  EXPECT_TRUE(validate_override("cleanup.policy", "delete,compact").ok());
  for (const char* bad : {"", "compacted", "compact,", "compact;delete"}) {
    Status s = validate_override("cleanup.policy", bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.error().message.find("cleanup.policy"), std::string::npos);
  }
  Status unknown = validate_override("retention.minutes", "5");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("retention.minutes"), std::string::npos);
  EXPECT_FALSE(validate_override("retention.ms", "5s").ok());
  EXPECT_FALSE(validate_override("retention.ms", "-2").ok());
  EXPECT_FALSE(validate_override("segment.bytes", "10").ok());
  EXPECT_FALSE(validate_override("flush.ms", "").ok());
}

TEST(TopicConfig, OverridesReplaceDefaultsAndAreDescribed) {
  LogConfig defaults;
  const LogConfig c = apply_overrides(defaults, {{"retention.ms", "1000"}, {"flush.ms", "0"}});
  EXPECT_EQ(c.retention_ms, 1000);
  EXPECT_EQ(c.flush_interval_ms, 0);
  EXPECT_EQ(c.segment_bytes, defaults.segment_bytes);
  bool found = false;
  for (const ConfigEntry& e : describe_topic_config(defaults, {{"retention.ms", "1000"}})) {
    if (e.name == "retention.ms") {
      found = true;
      EXPECT_EQ(e.value, "1000");
      EXPECT_FALSE(e.is_default);
    }
    if (e.name == "segment.bytes") {
      EXPECT_TRUE(e.is_default);
    }
  }
  EXPECT_TRUE(found);
}

TEST(TopicConfig, CleanupPolicyChoosesCompactionAndRetention) {
  const LogConfig plain = apply_overrides(LogConfig{}, {});
  EXPECT_TRUE(plain.delete_old);
  EXPECT_FALSE(plain.compact);
  const LogConfig compact = apply_overrides(LogConfig{}, {{"cleanup.policy", "compact"}});
  EXPECT_FALSE(compact.delete_old);
  EXPECT_TRUE(compact.compact);
  const LogConfig both = apply_overrides(LogConfig{}, {{"cleanup.policy", "compact,delete"}});
  EXPECT_TRUE(both.delete_old);
  EXPECT_TRUE(both.compact);
  for (const ConfigEntry& e : describe_topic_config(LogConfig{}, {{"cleanup.policy", "compact"}})) {
    if (e.name == "cleanup.policy") {
      EXPECT_EQ(e.value, "compact");
      EXPECT_FALSE(e.is_default);
    }
  }
}

class TopicStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kv_topics_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::unique_ptr<TopicStore> open() {
    auto s = TopicStore::open(dir_, LogConfig{});
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s.ok() ? std::move(*s) : nullptr;
  }
  fs::path dir_;
};

TEST_F(TopicStoreTest, OverridesSurviveAReopenAndCanBeChanged) {
  {
    auto store = open();
    ASSERT_TRUE(store->create_topic("cfg", 2, {{"retention.bytes", "4096"}}).ok());
    EXPECT_FALSE(store->create_topic("bad", 1, {{"retention.bytes", "lots"}}).ok());
    EXPECT_EQ(store->partition_count("bad"), 0);
  }
  auto store = open();
  ASSERT_EQ(store->partition_count("cfg"), 2);
  EXPECT_EQ(store->overrides("cfg")->at("retention.bytes"), "4096");
  ASSERT_TRUE(store->set_overrides("cfg", {{"retention.ms", "60000"}}).ok());
  store.reset();
  store = open();
  EXPECT_EQ(*store->overrides("cfg"), (TopicOverrides{{"retention.ms", "60000"}}));
}

TEST_F(TopicStoreTest, DeleteRemovesDataAndARecreatedTopicStartsEmpty) {
  auto store = open();
  ASSERT_TRUE(store->create_topic("gone", 1, {{"retention.ms", "1000"}}).ok());
  auto batch = testing::make_batch(3, 1000);
  ASSERT_TRUE(store->partition("gone", 0)->append(batch).ok());
  std::shared_ptr<PartitionLog> held = store->partition("gone", 0);

  ASSERT_TRUE(store->delete_topic("gone").ok());
  EXPECT_EQ(store->partition("gone", 0), nullptr);
  EXPECT_FALSE(fs::exists(dir_ / "gone-0"));
  EXPECT_FALSE(fs::exists(topic_config_path(dir_, "gone")));
  EXPECT_EQ(held->log_end_offset(), 3);  // a reader that still holds the log is not cut off
  Status again = store->delete_topic("gone");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kNotFound);

  ASSERT_TRUE(store->create_topic("gone", 1).ok());
  EXPECT_EQ(store->partition("gone", 0)->log_end_offset(), 0);
  EXPECT_TRUE(store->overrides("gone")->empty());
}

TEST_F(TopicStoreTest, OpenRemovesInterruptedDeletionsAndIgnoresStrayDirectories) {
  fs::create_directories(dir_ / "old-0.1234-delete");
  std::ofstream(dir_ / "old-0.1234-delete" / "00000000000000000000.log") << "x";
  fs::create_directories(dir_ / "notes");
  fs::create_directories(dir_ / "t-1x");
  auto store = open();
  EXPECT_FALSE(fs::exists(dir_ / "old-0.1234-delete"));
  EXPECT_TRUE(store->topic_names().empty());
}

}  // namespace
}  // namespace kv::broker
