# Outputs of the AWS deployment: addresses, the Kafka bootstrap and voters
# strings, instance ids (SSM targets), the commands to reach Control Center
# and a rill host, and the Ansible inventory text that scripts/deploy_all.sh
# writes to ansible/inventories/aws/hosts.yml.

output "vpc_id" {
  description = "Id of the VPC."
  value       = module.network.vpc_id
}

output "kafka_private_ips" {
  description = "Private address per broker."
  value       = { for name, h in module.layout.hosts : name => h.private_ip if h.role == "kafka" }
}

output "rill_private_ips" {
  description = "Private address per rill host."
  value       = { for name, h in module.layout.hosts : name => h.private_ip if h.role == "rill" }
}

output "postgresql_address" {
  description = "The PostgreSQL host's private address, or the RDS endpoint."
  value       = var.postgresql_mode == "rds" ? module.database.address : module.layout.hosts["postgresql1"].private_ip
}

output "rds_master_secret_arn" {
  description = "Secrets Manager secret of the RDS master password (postgresql_mode = \"rds\")."
  value       = module.database.master_secret_arn
}

output "control_center_private_ip" {
  description = "Private address of the Control Center host (empty without one)."
  value       = var.enable_control_center ? module.layout.hosts["control_center1"].private_ip : ""
}

output "bootstrap_servers" {
  description = "Kafka bootstrap string (client listener, SASL_SSL)."
  value       = module.layout.bootstrap_servers
}

output "quorum_voters" {
  description = "KRaft controller.quorum.voters."
  value       = module.layout.quorum_voters
}

output "instance_ids" {
  description = "Instance id per host name (SSM Session Manager targets)."
  value       = module.compute.instance_ids
}

output "control_center_tunnel" {
  description = "Command that forwards Control Center to http://127.0.0.1:9021 on this machine."
  value = var.enable_control_center ? join(" ", [
    "aws ssm start-session --region ${var.region} --target ${module.compute.instance_ids["control_center1"]}",
    "--document-name AWS-StartPortForwardingSession",
    "--parameters '{\"portNumber\":[\"${var.control_center_port}\"],\"localPortNumber\":[\"9021\"]}'",
  ]) : ""
}

output "rill_tunnel" {
  description = "Command that forwards rill1's HTTP port (/readyz, /metrics) to 127.0.0.1:9464 on this machine."
  value = join(" ", [
    "aws ssm start-session --region ${var.region} --target ${module.compute.instance_ids["rill1"]}",
    "--document-name AWS-StartPortForwardingSession",
    "--parameters '{\"portNumber\":[\"${var.rill_http_port}\"],\"localPortNumber\":[\"9464\"]}'",
  ])
}

output "ansible_inventory" {
  description = "Ansible inventory (YAML) in the rollout contract's groups: kafka, postgresql, rill, control_center, bastion."
  value       = module.layout.inventory_yaml
}

output "project" {
  description = "The Project tag (scripts/destroy_all.sh checks that nothing tagged with it remains)."
  value       = var.project
}

output "environment" {
  description = "The Environment tag."
  value       = var.environment
}

output "region" {
  description = "AWS region of the deployment."
  value       = var.region
}

output "connection" {
  description = "How the inventory reaches the hosts (ssm or direct)."
  value       = var.connection
}
