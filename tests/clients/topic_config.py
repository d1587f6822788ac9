"""Prints one config of a topic as the cluster reports it (DescribeConfigs, through kafka-python,
an independent client): topic_config.py BOOTSTRAP TOPIC KEY"""
import sys

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

bootstrap, topic, key = sys.argv[1:4]
admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","), request_timeout_ms=10000)
reply = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])[0]
for resource in reply.resources:
    for entry in resource[4]:
        if entry[0] == key:
            print(entry[1])
            sys.exit(0)
sys.exit(f"{topic} has no config {key}")
