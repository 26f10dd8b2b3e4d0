# What the layout computes: the subnet plan, every host with its tier, zone
# and fixed address, the KRaft voters and bootstrap strings, and the Ansible
# inventory (its structure and its YAML text).

output "subnet_cidrs" {
  description = "Subnet CIDR blocks per tier (public, kafka, rill, db), one per zone, in zone order."
  value       = local.subnet_cidrs
}

output "hosts" {
  description = "Every host by name: role, tier, az_index, private_ip, data_volume, node_id (KRaft id, 0 for non-Kafka hosts)."
  value       = local.hosts
}

output "kafka_node_ids" {
  description = "KRaft node id per Kafka host name."
  value       = { for name, h in local.kafka_hosts : name => h.node_id }
}

output "quorum_voters" {
  description = "controller.quorum.voters: id@address:controller_port, comma separated."
  value       = local.quorum_voters
}

output "bootstrap_servers" {
  description = "Kafka client bootstrap string: address:client_port, comma separated."
  value       = local.bootstrap_servers
}

output "inventory" {
  description = "The Ansible inventory as an object (what inventory_yaml encodes)."
  value       = local.inventory
}

output "inventory_yaml" {
  description = "The Ansible inventory as YAML text."
  value       = local.inventory_text
}
