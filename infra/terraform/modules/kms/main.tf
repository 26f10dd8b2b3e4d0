# Customer-managed KMS keys of the deployment, with rotation and explicit key
# policies: `data` encrypts the EBS volumes (root and data) and RDS (storage,
# Performance Insights, the master password secret); `logs` encrypts the
# CloudWatch log groups (VPC flow logs, RDS log exports).

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

variable "deletion_window_days" {
  description = "Days a key waits in PendingDeletion after destroy."
  type        = number
  default     = 7
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition

  # The account statement lets IAM policies in this account grant use of the
  # key (the AWS default); without it nobody could administer the key.
  account_statement = {
    Sid       = "AccountAdministersThroughIam"
    Effect    = "Allow"
    Principal = { AWS = "arn:${local.partition}:iam::${local.account}:root" }
    Action    = "kms:*"
    Resource  = "*"
  }
}

resource "aws_kms_key" "data" {
  description             = "${var.name_prefix}: EBS volumes and RDS"
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_days
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      local.account_statement,
      {
        Sid       = "Ec2AndRdsUseThroughTheirServices"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account}:root" }
        Action    = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"]
        Resource  = "*"
        Condition = {
          StringEquals = {
            "kms:ViaService"    = ["ec2.${local.region}.amazonaws.com", "rds.${local.region}.amazonaws.com", "secretsmanager.${local.region}.amazonaws.com"]
            "kms:CallerAccount" = local.account
          }
        }
      },
    ]
  })
  tags = { Name = "${var.name_prefix}-data" }
}

resource "aws_kms_alias" "data" {
  name          = "alias/${var.name_prefix}-data"
  target_key_id = aws_kms_key.data.key_id
}

resource "aws_kms_key" "logs" {
  description             = "${var.name_prefix}: CloudWatch log groups"
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_days
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      local.account_statement,
      {
        Sid       = "CloudWatchLogsOfThisAccount"
        Effect    = "Allow"
        Principal = { Service = "logs.${local.region}.amazonaws.com" }
        Action    = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
        Resource  = "*"
        Condition = {
          ArnLike = {
            "kms:EncryptionContext:aws:logs:arn" = "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:*"
          }
        }
      },
    ]
  })
  tags = { Name = "${var.name_prefix}-logs" }
}

resource "aws_kms_alias" "logs" {
  name          = "alias/${var.name_prefix}-logs"
  target_key_id = aws_kms_key.logs.key_id
}

output "data_key_arn" {
  description = "ARN of the key for EBS and RDS."
  value       = aws_kms_key.data.arn
}

output "logs_key_arn" {
  description = "ARN of the key for CloudWatch log groups."
  value       = aws_kms_key.logs.arn
}
