# The VPC: one public subnet per zone (the NAT gateway's, nothing else lives
# there: hosts are reached through SSM Session Manager, not a bastion),
# private subnets per zone for the Kafka, rill and database tiers routed
# through one NAT gateway, the default security group closed, and VPC flow
# logs into a KMS-encrypted CloudWatch log group with a retention.

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

variable "vpc_cidr" {
  description = "CIDR block of the VPC."
  type        = string
}

variable "availability_zones" {
  description = "Zones, in the order of the subnet plan."
  type        = list(string)
}

variable "subnet_cidrs" {
  description = "Subnet CIDRs per tier (public, kafka, rill, db), one per zone (the layout module's subnet_cidrs)."
  type        = map(list(string))
}

variable "logs_kms_key_arn" {
  description = "KMS key of the flow log group."
  type        = string
}

variable "flow_log_retention_days" {
  description = "Retention of the flow log group in days."
  type        = number
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  private_subnets = merge([
    for tier in ["kafka", "rill", "db"] : {
      for z, cidr in var.subnet_cidrs[tier] : "${tier}-${z}" => { tier = tier, zone = z, cidr = cidr }
    }
  ]...)
}

resource "aws_vpc" "this" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = { Name = var.name_prefix }
}

# No ingress and no egress rule: whatever lands in the default group by
# mistake can talk to nothing.
resource "aws_default_security_group" "this" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.name_prefix}-default-closed" }
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = var.name_prefix }
}

resource "aws_subnet" "public" {
  count                   = length(var.availability_zones)
  vpc_id                  = aws_vpc.this.id
  cidr_block              = var.subnet_cidrs["public"][count.index]
  availability_zone       = var.availability_zones[count.index]
  map_public_ip_on_launch = false
  tags                    = { Name = "${var.name_prefix}-public-${count.index}", Tier = "public" }
}

resource "aws_subnet" "private" {
  for_each                = local.private_subnets
  vpc_id                  = aws_vpc.this.id
  cidr_block              = each.value.cidr
  availability_zone       = var.availability_zones[each.value.zone]
  map_public_ip_on_launch = false
  tags                    = { Name = "${var.name_prefix}-${each.key}", Tier = each.value.tier }
}

resource "aws_eip" "nat" {
  domain = "vpc"
  tags   = { Name = "${var.name_prefix}-nat" }
}

# One NAT gateway (in the first zone) keeps the cost down; a zone outage
# then cuts the private subnets' outbound traffic (package installs, SSM)
# but not the traffic between the hosts.
resource "aws_nat_gateway" "this" {
  allocation_id = aws_eip.nat.id
  subnet_id     = aws_subnet.public[0].id
  tags          = { Name = var.name_prefix }
  depends_on    = [aws_internet_gateway.this]
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.name_prefix}-public" }
}

resource "aws_route" "public_internet" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id
}

resource "aws_route_table_association" "public" {
  count          = length(aws_subnet.public)
  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.this.id
  tags   = { Name = "${var.name_prefix}-private" }
}

resource "aws_route" "private_nat" {
  route_table_id         = aws_route_table.private.id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this.id
}

resource "aws_route_table_association" "private" {
  for_each       = aws_subnet.private
  subnet_id      = each.value.id
  route_table_id = aws_route_table.private.id
}

resource "aws_cloudwatch_log_group" "flow" {
  name              = "/${var.name_prefix}/vpc-flow-logs"
  retention_in_days = var.flow_log_retention_days
  kms_key_id        = var.logs_kms_key_arn
}

resource "aws_iam_role" "flow" {
  name        = "${var.name_prefix}-vpc-flow-logs"
  description = "VPC flow logs of ${var.name_prefix} write to their log group"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "vpc-flow-logs.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id }
      }
    }]
  })
}

resource "aws_iam_role_policy" "flow" {
  name = "write-flow-log-group"
  role = aws_iam_role.flow.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "WriteStreamsOfTheFlowLogGroup"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
        Resource = ["${aws_cloudwatch_log_group.flow.arn}:*"]
      },
      {
        Sid      = "DescribeTheFlowLogGroup"
        Effect   = "Allow"
        Action   = ["logs:DescribeLogGroups"]
        Resource = ["arn:${data.aws_partition.current.partition}:logs:*:${data.aws_caller_identity.current.account_id}:log-group:*"]
      },
    ]
  })
}

resource "aws_flow_log" "this" {
  vpc_id                   = aws_vpc.this.id
  traffic_type             = "ALL"
  log_destination_type     = "cloud-watch-logs"
  log_destination          = aws_cloudwatch_log_group.flow.arn
  iam_role_arn             = aws_iam_role.flow.arn
  max_aggregation_interval = 60
  tags                     = { Name = var.name_prefix }
}

output "vpc_id" {
  description = "Id of the VPC."
  value       = aws_vpc.this.id
}

output "private_subnet_ids" {
  description = "Private subnet ids per tier (kafka, rill, db), in zone order."
  value = {
    for tier in ["kafka", "rill", "db"] : tier => [
      for z in range(length(var.availability_zones)) : aws_subnet.private["${tier}-${z}"].id
    ]
  }
}

output "public_subnet_ids" {
  description = "Public subnet ids, in zone order."
  value       = aws_subnet.public[*].id
}

output "flow_log_group" {
  description = "Name of the flow log group."
  value       = aws_cloudwatch_log_group.flow.name
}
