# PostgreSQL 15 on RDS, used when postgresql_mode = "rds" (count 0 otherwise):
# encrypted storage under the data KMS key, not publicly accessible, in the
# database subnets behind the postgresql security group, IAM authentication,
# TLS forced and DDL plus slow statements logged (parameter group), the
# master password generated and kept by RDS in Secrets Manager (never in
# Terraform's state), backups, deletion protection, Multi-AZ, enhanced
# monitoring, Performance Insights, and log exports into KMS-encrypted log
# groups that Terraform owns (so destroy removes them).

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

variable "enabled" {
  description = "Whether the RDS instance exists."
  type        = bool
}

variable "name_prefix" {
  description = "Prefix of every name (project-environment)."
  type        = string
}

variable "subnet_ids" {
  description = "Database subnets (two zones at least)."
  type        = list(string)
}

variable "security_group_id" {
  description = "The postgresql security group."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key of storage, Performance Insights and the master secret."
  type        = string
}

variable "logs_kms_key_arn" {
  description = "KMS key of the exported log groups."
  type        = string
}

variable "log_retention_days" {
  description = "Retention of the exported log groups."
  type        = number
}

variable "instance_class" {
  description = "RDS instance class."
  type        = string
}

variable "allocated_storage_gb" {
  description = "Initial storage; autoscaling goes up to four times this."
  type        = number
}

variable "multi_az" {
  description = "A standby in a second zone."
  type        = bool
}

variable "backup_retention_days" {
  description = "Days of automated backups."
  type        = number
}

variable "deletion_protection" {
  description = "Refuse deletion (scripts/destroy_all.sh lifts it first)."
  type        = bool
}

variable "port" {
  description = "PostgreSQL port."
  type        = number
}

data "aws_partition" "current" {}

locals {
  count      = var.enabled ? 1 : 0
  identifier = "${var.name_prefix}-pg"
  log_types  = var.enabled ? toset(["postgresql", "upgrade"]) : toset([])
}

resource "aws_db_subnet_group" "this" {
  count       = local.count
  name        = local.identifier
  description = "Database subnets of ${var.name_prefix}"
  subnet_ids  = var.subnet_ids
}

resource "aws_db_parameter_group" "this" {
  count       = local.count
  name        = local.identifier
  family      = "postgres15"
  description = "${var.name_prefix}: TLS only, DDL and slow statements logged"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }
  parameter {
    name  = "log_statement"
    value = "ddl"
  }
  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }
  parameter {
    name  = "password_encryption"
    value = "scram-sha-256"
  }
}

resource "aws_iam_role" "monitoring" {
  count       = local.count
  name        = "${local.identifier}-monitoring"
  description = "RDS enhanced monitoring of ${local.identifier}"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "monitoring.rds.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  count      = local.count
  role       = aws_iam_role.monitoring[0].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_cloudwatch_log_group" "exports" {
  for_each          = local.log_types
  name              = "/aws/rds/instance/${local.identifier}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
}

resource "aws_db_instance" "this" {
  count          = local.count
  identifier     = local.identifier
  engine         = "postgres"
  engine_version = "15"
  instance_class = var.instance_class
  port           = var.port

  db_name                       = "rill"
  username                      = "rill_admin"
  manage_master_user_password   = true
  master_user_secret_kms_key_id = var.kms_key_arn

  allocated_storage     = var.allocated_storage_gb
  max_allocated_storage = var.allocated_storage_gb * 4
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = var.kms_key_arn

  db_subnet_group_name   = aws_db_subnet_group.this[0].name
  vpc_security_group_ids = [var.security_group_id]
  publicly_accessible    = false
  multi_az               = var.multi_az
  parameter_group_name   = aws_db_parameter_group.this[0].name
  ca_cert_identifier     = "rds-ca-rsa2048-g1"

  iam_database_authentication_enabled = true
  auto_minor_version_upgrade          = true
  backup_retention_period             = var.backup_retention_days
  copy_tags_to_snapshot               = true
  deletion_protection                 = var.deletion_protection
  skip_final_snapshot                 = false
  final_snapshot_identifier           = "${local.identifier}-final"

  monitoring_interval                   = 60
  monitoring_role_arn                   = aws_iam_role.monitoring[0].arn
  performance_insights_enabled          = true
  performance_insights_kms_key_id       = var.kms_key_arn
  performance_insights_retention_period = 7
  enabled_cloudwatch_logs_exports       = ["postgresql", "upgrade"]

  depends_on = [aws_cloudwatch_log_group.exports, aws_iam_role_policy_attachment.monitoring]
}

output "address" {
  description = "Address of the RDS instance (empty when disabled)."
  value       = var.enabled ? aws_db_instance.this[0].address : ""
}

output "master_secret_arn" {
  description = "Secrets Manager secret holding the master password (empty when disabled)."
  value       = try(aws_db_instance.this[0].master_user_secret[0].secret_arn, "")
}
