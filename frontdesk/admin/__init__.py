"""Make a cluster match the topology: topics, partitions, configs, tenant ACLs and quotas."""
