# Inputs of the provider-free layout: the address plan (VPC CIDR, zones), the
# host counts, the Kafka ports, and, once the instances exist, their ids and
# the RDS endpoint, which only the generated Ansible inventory uses.

variable "vpc_cidr" {
  description = "CIDR block of the VPC; every subnet is carved from it with cidrsubnet."
  type        = string
  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && try(tonumber(split("/", var.vpc_cidr)[1]) <= 20, false)
    error_message = "vpc_cidr must be an IPv4 CIDR block of /20 or larger."
  }
}

variable "subnet_newbits" {
  description = "Bits added to the VPC prefix for every subnet (8 turns a /16 into /24 subnets)."
  type        = number
  default     = 8
  validation {
    condition     = var.subnet_newbits >= 4 && var.subnet_newbits <= 12
    error_message = "subnet_newbits must be between 4 and 12 (four tiers of up to four zones need 16 subnets)."
  }
}

variable "availability_zones" {
  description = "Availability zones to spread the subnets and hosts over (1 to 4)."
  type        = list(string)
  validation {
    condition     = length(var.availability_zones) >= 1 && length(var.availability_zones) <= 4
    error_message = "availability_zones must name 1 to 4 zones."
  }
}

variable "kafka_node_count" {
  description = "Combined broker-controller nodes of the KRaft quorum (an odd number, 3 or 5)."
  type        = number
  default     = 3
  validation {
    condition     = contains([3, 5], var.kafka_node_count)
    error_message = "kafka_node_count must be 3 or 5 (an odd quorum that survives a lost node)."
  }
}

variable "rill_count" {
  description = "Number of rill hosts."
  type        = number
  default     = 2
  validation {
    condition     = var.rill_count >= 1 && var.rill_count <= 40 && floor(var.rill_count) == var.rill_count
    error_message = "rill_count must be a whole number from 1 to 40."
  }
}

variable "enable_control_center" {
  description = "Whether a Control Center host exists."
  type        = bool
  default     = true
}

variable "postgresql_mode" {
  description = "\"instance\": PostgreSQL on an EC2 host that Ansible installs; \"rds\": an RDS instance."
  type        = string
  default     = "instance"
  validation {
    condition     = contains(["instance", "rds"], var.postgresql_mode)
    error_message = "postgresql_mode must be \"instance\" or \"rds\"."
  }
}

variable "kafka_client_port" {
  description = "Kafka client listener (SASL_SSL, SCRAM-SHA-512)."
  type        = number
  default     = 9092
}

variable "kafka_controller_port" {
  description = "KRaft controller listener (SASL_SSL, PLAIN)."
  type        = number
  default     = 9093
}

variable "kafka_broker_port" {
  description = "Inter-broker listener (SASL_SSL, SCRAM-SHA-512)."
  type        = number
  default     = 9094
}

variable "postgresql_port" {
  description = "PostgreSQL port."
  type        = number
  default     = 5432
}

variable "connection" {
  description = "How Ansible reaches the hosts: \"ssm\" (SSH tunnelled through SSM Session Manager, ansible_host is the instance id) or \"direct\" (SSH to the private IP, from inside the VPC or over a VPN)."
  type        = string
  default     = "ssm"
  validation {
    condition     = contains(["ssm", "direct"], var.connection)
    error_message = "connection must be \"ssm\" or \"direct\"."
  }
}

variable "region" {
  description = "AWS region, passed to `aws ssm start-session` in the inventory."
  type        = string
  default     = ""
}

variable "ansible_user" {
  description = "Login user of the AMI (admin on Debian's official images)."
  type        = string
  default     = "admin"
}

variable "instance_ids" {
  description = "Instance id per host name (the keys of the hosts output), once the instances exist."
  type        = map(string)
  default     = {}
}

variable "rds_endpoint" {
  description = "Address of the RDS instance when postgresql_mode is \"rds\"."
  type        = string
  default     = ""
}
