#include "kafka/admin.h"
#include "kafka/client.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/clock.h"

namespace kv::kafka {
namespace {

// The admin call's plumbing: options with a timeout, a reply queue, and the result event.
struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
};
struct OptionsDeleter {
  void operator()(rd_kafka_AdminOptions_t* o) const { rd_kafka_AdminOptions_destroy(o); }
};
using EventPtr = std::unique_ptr<rd_kafka_event_t, EventDeleter>;

class Call {
 public:
  Call(rd_kafka_t* rk, rd_kafka_admin_op_t op, int timeout_ms, std::string what)
      : queue_(rd_kafka_queue_new(rk)),
        options_(rd_kafka_AdminOptions_new(rk, op)),
        timeout_ms_(timeout_ms),
        what_(std::move(what)) {
    char err[256];
    rd_kafka_AdminOptions_set_request_timeout(options_.get(), timeout_ms, err, sizeof err);
  }
  rd_kafka_queue_t* queue() const { return queue_.get(); }
  rd_kafka_AdminOptions_t* options() const { return options_.get(); }

  // Waits for the result event; a call-level error is returned as an error.
  Result<EventPtr> wait() {
    EventPtr ev(rd_kafka_queue_poll(queue_.get(), timeout_ms_ + 1000));
    if (!ev) return fail(fmt::format("no reply within {} ms", timeout_ms_));
    if (rd_kafka_event_error(ev.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return fail(fmt::format("{} ({})", rd_kafka_event_error_string(ev.get()),
                              rd_kafka_err2name(rd_kafka_event_error(ev.get()))));
    }
    return ev;
  }
  Error fail(const std::string& reason) const {
    return make_error(ErrorCode::kKafka, fmt::format("{}: {}", what_, reason));
  }
  Error fail(rd_kafka_resp_err_t err, const char* message) const {
    return fail(fmt::format("{} ({})",
                            message != nullptr && *message ? message : rd_kafka_err2str(err),
                            rd_kafka_err2name(err)));
  }

 private:
  std::unique_ptr<rd_kafka_queue_t, QueueDeleter> queue_;
  std::unique_ptr<rd_kafka_AdminOptions_t, OptionsDeleter> options_;
  int timeout_ms_;
  std::string what_;
};

// The first failed topic of a CreateTopics/DeleteTopics result as an error, else ok.
Status first_topic_error(const Call& call, const rd_kafka_topic_result_t** results, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (rd_kafka_resp_err_t e = rd_kafka_topic_result_error(results[i]); e != 0)
      return call.fail(e, rd_kafka_topic_result_error_string(results[i]));
  }
  return ok_status();
}

std::string str(const char* s) {
  return s != nullptr ? s : "";
}

}  // namespace

Result<std::unique_ptr<Admin>> Admin::create(const KafkaConfig& config) {
  auto conf = make_conf(config, {});
  if (!conf) return conf.error();
  std::unique_ptr<Admin> admin(new Admin());
  rd_kafka_conf_set_error_cb(*conf, &Admin::on_error);
  rd_kafka_conf_set_opaque(*conf, admin.get());
  auto rk = new_handle(RD_KAFKA_PRODUCER, *conf, "admin client");
  if (!rk) return rk.error();
  admin->config_ = config;
  admin->rk_ = std::move(*rk);
  return admin;
}

Status Admin::create_topic(const std::string& name, int partitions,
                           const std::map<std::string, std::string>& configs, int timeout_ms,
                           int replication_factor) {
  Call call(rk_.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout_ms,
            fmt::format("creating topic {}", name));
  char err[256];
  rd_kafka_NewTopic_t* topic =
      rd_kafka_NewTopic_new(name.c_str(), partitions, replication_factor, err, sizeof err);
  if (topic == nullptr) return call.fail(err);
  for (const auto& [key, value] : configs) {
    if (rd_kafka_NewTopic_set_config(topic, key.c_str(), value.c_str()) != 0) {
      rd_kafka_NewTopic_destroy(topic);
      return call.fail(fmt::format("bad config {}={}", key, value));
    }
  }
  rd_kafka_CreateTopics(rk_.get(), &topic, 1, call.options(), call.queue());
  rd_kafka_NewTopic_destroy(topic);
  auto ev = call.wait();
  if (!ev) return ev.error();
  size_t n = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev->get()), &n);
  return first_topic_error(call, results, n);
}

void Admin::on_error(rd_kafka_t* /*rk*/, int err, const char* reason, void* opaque) {
  const std::string why = reason != nullptr ? reason : "";
  const bool sasl = err == RD_KAFKA_RESP_ERR__AUTHENTICATION ||
                    why.find("SASL authentication") != std::string::npos;
  const bool tls = err == RD_KAFKA_RESP_ERR__SSL ||
                   why.find("SSL handshake") != std::string::npos ||
                   why.find("certificate verify failed") != std::string::npos;
  if (!sasl && !tls) return;  // brokers coming and going: librdkafka retries
  auto* self = static_cast<Admin*>(opaque);
  std::lock_guard lock(self->mu_);
  if (self->refused_) return;
  self->refused_ = make_error(
      ErrorCode::kKafka,
      sasl ? fmt::format("the Kafka cluster refused the credentials: {}: check -X "
                         "sasl.mechanisms, sasl.username and sasl.password",
                         why)
           : fmt::format("the TLS handshake with the Kafka cluster failed: {}: check -X "
                         "ssl.ca.location (the CA that signed the brokers' certificates)",
                         why));
}

std::optional<Error> Admin::refused() const {
  std::lock_guard lock(mu_);
  return refused_;
}

Result<ClusterLayout> Admin::layout(int timeout_ms) {
  const rd_kafka_metadata_t* raw = nullptr;
  const int64_t deadline = mono_now_us() + int64_t{timeout_ms} * 1000;
  for (;;) {
    // Short waits, so that a refusal seen meanwhile ends the wait.
    const int step_ms =
        static_cast<int>(std::clamp<int64_t>((deadline - mono_now_us()) / 1000, 1, int64_t{500}));
    const rd_kafka_resp_err_t e = rd_kafka_metadata(rk_.get(), 1, nullptr, &raw, step_ms);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
    rd_kafka_poll(rk_.get(), 0);  // serves the error callback
    if (auto why = refused()) return *why;
    if (mono_now_us() >= deadline) {
      return make_error(
          ErrorCode::kKafka,
          fmt::format("cannot reach the Kafka cluster ({}): check --brokers", rd_kafka_err2str(e)));
    }
  }
  MetadataPtr md(raw);
  ClusterLayout out;
  for (int b = 0; b < md->broker_cnt; ++b) out.brokers.push_back(md->brokers[b].id);
  for (int t = 0; t < md->topic_cnt; ++t) {
    const rd_kafka_metadata_topic_t& topic = md->topics[t];
    if (topic.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    TopicLayout tl{topic.topic, topic.partition_cnt, 0};
    for (int p = 0; p < topic.partition_cnt; ++p) {
      if (topic.partitions[p].id == 0) tl.replication_factor = topic.partitions[p].replica_cnt;
    }
    out.topics[tl.name] = tl;
  }
  return out;
}

Status Admin::delete_topic(const std::string& name, int timeout_ms) {
  Call call(rk_.get(), RD_KAFKA_ADMIN_OP_DELETETOPICS, timeout_ms,
            fmt::format("deleting topic {}", name));
  rd_kafka_DeleteTopic_t* topic = rd_kafka_DeleteTopic_new(name.c_str());
  rd_kafka_DeleteTopics(rk_.get(), &topic, 1, call.options(), call.queue());
  rd_kafka_DeleteTopic_destroy(topic);
  auto ev = call.wait();
  if (!ev) return ev.error();
  size_t n = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev->get()), &n);
  return first_topic_error(call, results, n);
}

Result<std::map<std::string, std::string>> Admin::topic_configs(const std::string& name,
                                                                int timeout_ms) {
  Call call(rk_.get(), RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout_ms,
            fmt::format("describing the configs of topic {}", name));
  rd_kafka_ConfigResource_t* resource =
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name.c_str());
  rd_kafka_DescribeConfigs(rk_.get(), &resource, 1, call.options(), call.queue());
  rd_kafka_ConfigResource_destroy(resource);
  auto ev = call.wait();
  if (!ev) return ev.error();
  size_t n = 0;
  const rd_kafka_ConfigResource_t** resources = rd_kafka_DescribeConfigs_result_resources(
      rd_kafka_event_DescribeConfigs_result(ev->get()), &n);
  if (n != 1) return call.fail(fmt::format("{} resources in the reply", n));
  if (rd_kafka_resp_err_t e = rd_kafka_ConfigResource_error(resources[0]); e != 0)
    return call.fail(e, rd_kafka_ConfigResource_error_string(resources[0]));
  size_t count = 0;
  const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(resources[0], &count);
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < count; ++i)
    out[str(rd_kafka_ConfigEntry_name(entries[i]))] = str(rd_kafka_ConfigEntry_value(entries[i]));
  return out;
}

Result<std::vector<GroupListing>> Admin::list_groups(int timeout_ms) {
  Call call(rk_.get(), RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, timeout_ms, "listing consumer groups");
  rd_kafka_ListConsumerGroups(rk_.get(), call.options(), call.queue());
  auto ev = call.wait();
  if (!ev) return ev.error();
  const rd_kafka_ListConsumerGroups_result_t* res =
      rd_kafka_event_ListConsumerGroups_result(ev->get());
  size_t n_errors = 0;
  const rd_kafka_error_t** errors = rd_kafka_ListConsumerGroups_result_errors(res, &n_errors);
  if (n_errors > 0) return call.fail(rd_kafka_error_string(errors[0]));
  size_t n = 0;
  const rd_kafka_ConsumerGroupListing_t** groups =
      rd_kafka_ListConsumerGroups_result_valid(res, &n);
  std::vector<GroupListing> out;
  for (size_t i = 0; i < n; ++i) {
    out.push_back(
        {str(rd_kafka_ConsumerGroupListing_group_id(groups[i])),
         rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupListing_state(groups[i]))});
  }
  return out;
}

Result<GroupDescription> Admin::describe_group(const std::string& group_id, int timeout_ms) {
  Call call(rk_.get(), RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, timeout_ms,
            fmt::format("describing consumer group {}", group_id));
  const char* ids[] = {group_id.c_str()};
  rd_kafka_DescribeConsumerGroups(rk_.get(), ids, 1, call.options(), call.queue());
  auto ev = call.wait();
  if (!ev) return ev.error();
  size_t n = 0;
  const rd_kafka_ConsumerGroupDescription_t** groups =
      rd_kafka_DescribeConsumerGroups_result_groups(
          rd_kafka_event_DescribeConsumerGroups_result(ev->get()), &n);
  if (n != 1) return call.fail(fmt::format("{} groups in the reply", n));
  const rd_kafka_ConsumerGroupDescription_t* g = groups[0];
  if (const rd_kafka_error_t* e = rd_kafka_ConsumerGroupDescription_error(g))
    return call.fail(rd_kafka_error_string(e));
  GroupDescription out;
  out.group_id = str(rd_kafka_ConsumerGroupDescription_group_id(g));
  out.state = rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(g));
  out.assignor = str(rd_kafka_ConsumerGroupDescription_partition_assignor(g));
  for (size_t i = 0; i < rd_kafka_ConsumerGroupDescription_member_count(g); ++i) {
    const rd_kafka_MemberDescription_t* m = rd_kafka_ConsumerGroupDescription_member(g, i);
    GroupMember member{str(rd_kafka_MemberDescription_consumer_id(m)),
                       str(rd_kafka_MemberDescription_client_id(m)),
                       str(rd_kafka_MemberDescription_host(m)),
                       {}};
    const rd_kafka_topic_partition_list_t* parts =
        rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(m));
    for (int p = 0; parts != nullptr && p < parts->cnt; ++p)
      member.assignment.emplace_back(parts->elems[p].topic, parts->elems[p].partition);
    out.members.push_back(std::move(member));
  }
  return out;
}

Result<std::map<std::pair<std::string, int32_t>, int64_t>> Admin::committed_offsets(
    const std::string& group_id, const Partitions& partitions, int timeout_ms) {
  auto reader = group_readers_.find(group_id);
  if (reader == group_readers_.end()) {
    // read_uncommitted: the offsets committed so far, not held back until a transaction that
    // holds new ones ends (Kafka answers UNSTABLE_OFFSET_COMMIT to a read_committed reader).
    auto conf = make_conf(config_, {{"group.id", group_id},
                                    {"enable.auto.commit", "false"},
                                    {"isolation.level", "read_uncommitted"}});
    if (!conf) return conf.error();
    auto rk = new_handle(RD_KAFKA_CONSUMER, *conf, "committed-offset reader");
    if (!rk) return rk.error();
    reader = group_readers_.emplace(group_id, std::move(*rk)).first;
  }
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size())));
  for (const auto& [topic, partition] : partitions)
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition);
  if (rd_kafka_resp_err_t e = rd_kafka_committed(reader->second.get(), list.get(), timeout_ms);
      e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return make_error(ErrorCode::kKafka,
                      fmt::format("reading the committed offsets of group {}: {} ({})", group_id,
                                  rd_kafka_err2str(e), rd_kafka_err2name(e)));
  }
  std::map<std::pair<std::string, int32_t>, int64_t> out;
  for (int i = 0; i < list->cnt; ++i) {
    const rd_kafka_topic_partition_t& p = list->elems[i];
    if (p.err == RD_KAFKA_RESP_ERR_NO_ERROR && p.offset >= 0)
      out[{p.topic, p.partition}] = p.offset;
  }
  return out;
}

Status Admin::commit_offsets(const std::string& group_id,
                             const std::map<std::pair<std::string, int32_t>, int64_t>& offsets) {
  if (offsets.empty()) return ok_status();
  auto conf = make_conf(config_, {{"group.id", group_id}, {"enable.auto.commit", "false"}});
  if (!conf) return conf.error();
  auto rk = new_handle(RD_KAFKA_CONSUMER, *conf, "offset committer");
  if (!rk) return rk.error();
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& [tp, offset] : offsets)
    rd_kafka_topic_partition_list_add(list.get(), tp.first.c_str(), tp.second)->offset = offset;
  const rd_kafka_resp_err_t e = rd_kafka_commit(rk->get(), list.get(), 0);
  std::string failed;
  for (int i = 0; i < list->cnt; ++i) {
    if (list->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR)
      failed = rd_kafka_err2str(list->elems[i].err);
  }
  rd_kafka_consumer_close(rk->get());
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR || !failed.empty()) {
    return make_error(ErrorCode::kKafka,
                      fmt::format("committing offsets for group {}: {}", group_id,
                                  e != RD_KAFKA_RESP_ERR_NO_ERROR ? rd_kafka_err2str(e) : failed));
  }
  return ok_status();
}

Status check_cluster(const KafkaConfig& config, int timeout_ms) {
  auto admin = Admin::create(config);
  if (!admin) return admin.error();
  auto layout = (*admin)->layout(timeout_ms);
  if (!layout) return layout.error();
  return ok_status();
}

}  // namespace kv::kafka
