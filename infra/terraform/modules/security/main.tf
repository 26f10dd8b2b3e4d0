# Security groups of the hosts, one per role plus a `host` group every
# instance carries. Nothing is open to the internet: Kafka's listeners
# (client 9092 from the VPC, controller 9093 and inter-broker 9094 from the
# brokers only), PostgreSQL (from rill hosts), rill's HTTP port (/readyz,
# /metrics) and Control Center (from the VPC). SSH needs no ingress with SSM
# Session Manager (the agent dials out); ssh_ingress_cidrs opens 22 to named
# internal networks for a direct connection and refuses /0. Egress: HTTPS and
# HTTP (packages, SSM, Confluent's repository) and TCP inside the VPC.

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

variable "name_prefix" {
  description = "Prefix of every name (project-environment)."
  type        = string
}

variable "vpc_id" {
  description = "Id of the VPC."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC."
  type        = string
}

variable "ports" {
  description = "Ports: kafka_client, kafka_controller, kafka_broker, postgresql, rill_http, control_center."
  type = object({
    kafka_client     = number
    kafka_controller = number
    kafka_broker     = number
    postgresql       = number
    rill_http        = number
    control_center   = number
  })
}

variable "ssh_ingress_cidrs" {
  description = "Internal networks (a VPN, a peered VPC) allowed to SSH to the hosts; empty with SSM."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for c in var.ssh_ingress_cidrs : can(cidrhost(c, 0)) && !contains(["0.0.0.0/0", "::/0"], c) && try(tonumber(split("/", c)[1]) >= 8, false)])
    error_message = "ssh_ingress_cidrs must be CIDR blocks of /8 or narrower, never 0.0.0.0/0 or ::/0."
  }
}

locals {
  roles = {
    host           = "Every ${var.name_prefix} host: egress for packages and SSM, SSH only from named internal networks"
    kafka          = "Kafka brokers/controllers of ${var.name_prefix}: client listener from the VPC, controller and broker listeners from the brokers"
    rill           = "rill hosts of ${var.name_prefix}: HTTP (readyz, metrics) from the VPC"
    postgresql     = "PostgreSQL of ${var.name_prefix}: from the rill hosts"
    control_center = "Control Center of ${var.name_prefix}: its web UI from the VPC"
  }
}

resource "aws_security_group" "this" {
  #checkov:skip=CKV2_AWS_5:Every group is attached: host and the role's group to each aws_instance (modules/compute, vpc_security_group_ids from this module's security_group_ids map) and postgresql to RDS; checkov's graph does not follow a for_each group through a module output map.
  for_each    = local.roles
  name        = "${var.name_prefix}-${each.key}"
  description = each.value
  vpc_id      = var.vpc_id
  tags        = { Name = "${var.name_prefix}-${each.key}" }

  lifecycle {
    create_before_destroy = true
  }
}

# Egress of every host.
resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.this["host"].id
  description       = "HTTPS out: Debian and Confluent packages, the SSM agent and its endpoints"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "http" {
  security_group_id = aws_security_group.this["host"].id
  description       = "HTTP out: Debian's package mirror (packages are signed)"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "vpc" {
  security_group_id = aws_security_group.this["host"].id
  description       = "TCP to the VPC: Kafka, PostgreSQL, rill and Control Center ports between the hosts"
  ip_protocol       = "tcp"
  from_port         = 1
  to_port           = 65535
  cidr_ipv4         = var.vpc_cidr
}

resource "aws_vpc_security_group_ingress_rule" "ssh" {
  for_each          = toset(var.ssh_ingress_cidrs)
  security_group_id = aws_security_group.this["host"].id
  description       = "SSH from the internal network ${each.value}"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "kafka_client" {
  security_group_id = aws_security_group.this["kafka"].id
  description       = "Kafka client listener (SASL_SSL SCRAM-SHA-512) from the VPC"
  ip_protocol       = "tcp"
  from_port         = var.ports.kafka_client
  to_port           = var.ports.kafka_client
  cidr_ipv4         = var.vpc_cidr
}

resource "aws_vpc_security_group_ingress_rule" "kafka_controller" {
  security_group_id            = aws_security_group.this["kafka"].id
  description                  = "KRaft controller listener (SASL_SSL PLAIN) from the other brokers"
  ip_protocol                  = "tcp"
  from_port                    = var.ports.kafka_controller
  to_port                      = var.ports.kafka_controller
  referenced_security_group_id = aws_security_group.this["kafka"].id
}

resource "aws_vpc_security_group_ingress_rule" "kafka_broker" {
  security_group_id            = aws_security_group.this["kafka"].id
  description                  = "Inter-broker listener (SASL_SSL SCRAM-SHA-512) from the other brokers"
  ip_protocol                  = "tcp"
  from_port                    = var.ports.kafka_broker
  to_port                      = var.ports.kafka_broker
  referenced_security_group_id = aws_security_group.this["kafka"].id
}

resource "aws_vpc_security_group_ingress_rule" "postgresql" {
  security_group_id            = aws_security_group.this["postgresql"].id
  description                  = "PostgreSQL from the rill hosts (sinks, offsets, migrate)"
  ip_protocol                  = "tcp"
  from_port                    = var.ports.postgresql
  to_port                      = var.ports.postgresql
  referenced_security_group_id = aws_security_group.this["rill"].id
}

resource "aws_vpc_security_group_ingress_rule" "rill_http" {
  security_group_id = aws_security_group.this["rill"].id
  description       = "rill HTTP (readyz, healthz, metrics) from the VPC"
  ip_protocol       = "tcp"
  from_port         = var.ports.rill_http
  to_port           = var.ports.rill_http
  cidr_ipv4         = var.vpc_cidr
}

resource "aws_vpc_security_group_ingress_rule" "control_center" {
  security_group_id = aws_security_group.this["control_center"].id
  description       = "Control Center web UI from the VPC (reach it through an SSM port forward)"
  ip_protocol       = "tcp"
  from_port         = var.ports.control_center
  to_port           = var.ports.control_center
  cidr_ipv4         = var.vpc_cidr
}

output "security_group_ids" {
  description = "Security group id per role (host, kafka, rill, postgresql, control_center)."
  value       = { for role, sg in aws_security_group.this : role => sg.id }
}
