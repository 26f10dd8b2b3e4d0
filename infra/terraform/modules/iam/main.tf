# The hosts' IAM role and instance profile, least privilege: the AWS managed
# AmazonSSMManagedInstanceCore policy (the SSM agent: Session Manager and
# Run Command) and nothing else. The hosts need no other AWS API: Ansible
# brings their configuration and secrets over the SSM tunnel.

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

data "aws_partition" "current" {}

resource "aws_iam_role" "host" {
  name        = "${var.name_prefix}-host"
  description = "EC2 hosts of ${var.name_prefix}: the SSM agent only"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "ssm_core" {
  role       = aws_iam_role.host.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "host" {
  name = "${var.name_prefix}-host"
  role = aws_iam_role.host.name
}

output "instance_profile_name" {
  description = "Instance profile of the hosts."
  value       = aws_iam_instance_profile.host.name
}

output "role_arn" {
  description = "ARN of the hosts' role."
  value       = aws_iam_role.host.arn
}
