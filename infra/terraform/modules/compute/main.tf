# The EC2 hosts, one aws_instance per entry of the layout's hosts (the KRaft
# brokers, the rill hosts, the PostgreSQL host, Control Center), each at its
# fixed private address in its tier's subnet, with no public address, IMDSv2
# required (hop limit 1), detailed monitoring, EBS optimized, encrypted gp3
# root and data volumes under the data KMS key, the SSM instance profile,
# and a first-boot script that installs the SSM agent and mounts the data
# volume. Debian 12 (amd64) from Debian's own account unless ami_id is set.

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

variable "hosts" {
  description = "Hosts by name (the layout module's hosts output)."
  type = map(object({
    role        = string
    tier        = string
    az_index    = number
    private_ip  = string
    data_volume = bool
    node_id     = number
  }))
}

variable "subnet_ids" {
  description = "Private subnet ids per tier (kafka, rill, db), in zone order."
  type        = map(list(string))
}

variable "security_group_ids" {
  description = "Security group id per role, plus host (carried by every instance)."
  type        = map(string)
}

variable "instance_profile_name" {
  description = "Instance profile of the hosts."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key of the EBS volumes."
  type        = string
}

variable "instance_types" {
  description = "Instance type per role (kafka, rill, postgresql, control_center)."
  type        = map(string)
}

variable "data_volume_gb" {
  description = "Data volume size per role that has one (kafka, postgresql)."
  type        = map(number)
}

variable "root_volume_gb" {
  description = "Root volume size of every host."
  type        = number
}

variable "ami_id" {
  description = "AMI of the hosts; empty: the newest Debian 12 amd64 image from Debian's account."
  type        = string
  default     = ""
}

variable "ssh_public_key" {
  description = "Public key installed for the AMI's login user (Ansible's SSH, through SSM)."
  type        = string
}

variable "volume_tags" {
  description = "Tags of the root and data volumes (the provider's default tags do not reach them)."
  type        = map(string)
}

data "aws_region" "current" {}

data "aws_ami" "debian" {
  count       = var.ami_id == "" ? 1 : 0
  most_recent = true
  owners      = ["136693071363"] # Debian's official AMI account
  filter {
    name   = "name"
    values = ["debian-12-amd64-*"]
  }
  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
  filter {
    name   = "virtualization-type"
    values = ["hvm"]
  }
}

locals {
  ami_id      = var.ami_id != "" ? var.ami_id : data.aws_ami.debian[0].id
  data_mounts = { kafka = "/var/lib/kafka", postgresql = "/var/lib/postgresql" }
}

resource "aws_key_pair" "admin" {
  key_name   = "${var.name_prefix}-admin"
  public_key = var.ssh_public_key
}

resource "aws_instance" "this" {
  for_each = var.hosts

  ami                         = local.ami_id
  instance_type               = var.instance_types[each.value.role]
  subnet_id                   = var.subnet_ids[each.value.tier][each.value.az_index]
  private_ip                  = each.value.private_ip
  associate_public_ip_address = false
  vpc_security_group_ids      = [var.security_group_ids["host"], var.security_group_ids[each.value.role]]
  iam_instance_profile        = var.instance_profile_name
  key_name                    = aws_key_pair.admin.key_name
  monitoring                  = true
  ebs_optimized               = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
    instance_metadata_tags      = "disabled"
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_gb
    encrypted             = true
    kms_key_id            = var.kms_key_arn
    delete_on_termination = true
  }

  dynamic "ebs_block_device" {
    for_each = each.value.data_volume ? [var.data_volume_gb[each.value.role]] : []
    content {
      device_name           = "/dev/sdf"
      volume_type           = "gp3"
      volume_size           = ebs_block_device.value
      encrypted             = true
      kms_key_id            = var.kms_key_arn
      delete_on_termination = true
    }
  }

  user_data = templatefile("${path.module}/user_data.sh.tftpl", {
    name_prefix = var.name_prefix
    hostname    = replace(each.key, "_", "-")
    region      = data.aws_region.current.name
    data_mount  = each.value.data_volume ? local.data_mounts[each.value.role] : ""
    data_label  = "${each.value.role}-data"
  })

  volume_tags = merge(var.volume_tags, { Name = "${var.name_prefix}-${each.key}" })
  tags        = { Name = "${var.name_prefix}-${each.key}", Role = each.value.role }

  # A newer Debian image must not replace a broker behind the quorum's back:
  # roll new images one host at a time on purpose (terraform apply -replace).
  lifecycle {
    ignore_changes = [ami, user_data]
  }
}

output "instance_ids" {
  description = "Instance id per host name."
  value       = { for name, i in aws_instance.this : name => i.id }
}

output "private_ips" {
  description = "Private address per host name."
  value       = { for name, i in aws_instance.this : name => i.private_ip }
}
