#include "kafka/config.h"
#include "kafka/client.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

namespace kv::kafka {

Result<Property> parse_property(const std::string& text) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("librdkafka property '{}' must be key=value", text));
  }
  return Property{text.substr(0, eq), text.substr(eq + 1)};
}

bool is_secret_property(const std::string& key) {
  return key.find("password") != std::string::npos || key.find("secret") != std::string::npos ||
         key == "sasl.oauthbearer.config" || key == "ssl.key.pem" || key == "sasl.jaas.config";
}

Result<rd_kafka_conf_t*> make_conf(const KafkaConfig& config, const Properties& defaults) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  auto set = [&](const std::string& k, const std::string& v) -> Status {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      return make_error(
          ErrorCode::kInvalidArgument,
          fmt::format("librdkafka property {}={}: {}", k, is_secret_property(k) ? "***" : v, err));
    }
    return ok_status();
  };
  Status s = set("bootstrap.servers", config.brokers);
  for (const auto& [k, v] : defaults) {
    if (s) s = set(k, v);
  }
  for (const auto& [k, v] : config.overrides) {
    if (s) s = set(k, v);
  }
  if (!s) {
    rd_kafka_conf_destroy(conf);
    return s.error();
  }
  return conf;
}

Status validate(const KafkaConfig& config) {
  auto conf = make_conf(config, {});
  if (!conf) return conf.error();
  rd_kafka_conf_destroy(*conf);
  return ok_status();
}

Result<KafkaHandle> new_handle(rd_kafka_type_t type, rd_kafka_conf_t* conf, const char* what) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);  // rd_kafka_new only takes it on success
    return make_error(ErrorCode::kKafka, fmt::format("cannot create {}: {}", what, err));
  }
  return KafkaHandle(rk);
}

Result<std::vector<int32_t>> topic_partitions(rd_kafka_t* rk, const std::string& topic,
                                              int timeout_ms) {
  rd_kafka_topic_t* t = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, t, &md, timeout_ms);
  rd_kafka_topic_destroy(t);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_error(ErrorCode::kKafka, fmt::format("cannot read the metadata of {}: {}", topic,
                                                     rd_kafka_err2str(err)));
  }
  MetadataPtr meta(md);
  std::vector<int32_t> out;
  if (md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int p = 0; p < md->topics[0].partition_cnt; ++p)
      out.push_back(md->topics[0].partitions[p].id);
  }
  return out;
}

}  // namespace kv::kafka
