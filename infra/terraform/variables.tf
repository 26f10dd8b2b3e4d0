# Inputs of the AWS deployment. Only ssh_public_key has no default; put the
# values in infra/terraform/terraform.tfvars (ignored by git) or TF_VAR_*.
# Sizes default to a small production-shaped cluster (README.md: cost).

variable "region" {
  description = "AWS region."
  type        = string
  default     = "eu-west-1"
}

variable "project" {
  description = "Project name: the Project tag and the first part of every name."
  type        = string
  default     = "rill"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,15}$", var.project))
    error_message = "project must be 2-16 lower-case letters, digits or dashes, starting with a letter."
  }
}

variable "environment" {
  description = "Environment name (dev, staging, prod): the Environment tag and the second part of every name."
  type        = string
  default     = "dev"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,11}$", var.environment))
    error_message = "environment must be 2-12 lower-case letters, digits or dashes, starting with a letter."
  }
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC (/20 or larger)."
  type        = string
  default     = "10.40.0.0/16"
}

variable "az_count" {
  description = "Zones to spread over (the first az_count available zones of the region); three puts one broker in each."
  type        = number
  default     = 3
  validation {
    condition     = var.az_count >= 2 && var.az_count <= 4
    error_message = "az_count must be 2 to 4 (RDS needs two zones)."
  }
}

variable "kafka_instance_type" {
  description = "Instance type of the three KRaft broker-controllers."
  type        = string
  default     = "m6i.large"
}

variable "kafka_data_volume_gb" {
  description = "Size of each broker's data volume (gp3, mounted at /var/lib/kafka)."
  type        = number
  default     = 100
}

variable "rill_count" {
  description = "Number of rill hosts."
  type        = number
  default     = 2
}

variable "rill_instance_type" {
  description = "Instance type of the rill hosts."
  type        = string
  default     = "t3.medium"
}

variable "postgresql_mode" {
  description = "\"instance\": PostgreSQL 15 on an EC2 host that Ansible installs; \"rds\": RDS for PostgreSQL 15."
  type        = string
  default     = "instance"
  validation {
    condition     = contains(["instance", "rds"], var.postgresql_mode)
    error_message = "postgresql_mode must be \"instance\" or \"rds\"."
  }
}

variable "postgresql_instance_type" {
  description = "Instance type of the PostgreSQL host (postgresql_mode = \"instance\")."
  type        = string
  default     = "m6i.large"
}

variable "postgresql_data_volume_gb" {
  description = "Data volume of the PostgreSQL host (mounted at /var/lib/postgresql), or the RDS initial storage."
  type        = number
  default     = 50
}

variable "rds_instance_class" {
  description = "RDS instance class (postgresql_mode = \"rds\")."
  type        = string
  default     = "db.m6g.large"
}

variable "rds_multi_az" {
  description = "RDS standby in a second zone."
  type        = bool
  default     = true
}

variable "rds_backup_retention_days" {
  description = "Days of RDS automated backups."
  type        = number
  default     = 7
  validation {
    condition     = var.rds_backup_retention_days >= 1 && var.rds_backup_retention_days <= 35
    error_message = "rds_backup_retention_days must be 1 to 35."
  }
}

variable "rds_deletion_protection" {
  description = "RDS deletion protection (scripts/destroy_all.sh lifts it before destroying)."
  type        = bool
  default     = true
}

variable "enable_control_center" {
  description = "Whether a Control Center host exists."
  type        = bool
  default     = true
}

variable "control_center_instance_type" {
  description = "Instance type of the Control Center host (it wants 16 GB of memory)."
  type        = string
  default     = "m6i.xlarge"
}

variable "root_volume_gb" {
  description = "Root volume size of every host."
  type        = number
  default     = 20
}

variable "ami_id" {
  description = "AMI of every host; empty: the newest Debian 12 amd64 image from Debian's account."
  type        = string
  default     = ""
}

variable "ssh_public_key" {
  description = "Public SSH key of the AMI's login user (admin); Ansible's SSH runs through SSM Session Manager."
  type        = string
  validation {
    condition     = can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) ", var.ssh_public_key))
    error_message = "ssh_public_key must be an OpenSSH public key line (ssh-ed25519 AAAA...)."
  }
}

variable "connection" {
  description = "How the generated inventory reaches the hosts: \"ssm\" (SSH through Session Manager) or \"direct\" (SSH to private addresses, from a VPN or peered network listed in ssh_ingress_cidrs)."
  type        = string
  default     = "ssm"
  validation {
    condition     = contains(["ssm", "direct"], var.connection)
    error_message = "connection must be \"ssm\" or \"direct\"."
  }
}

variable "ssh_ingress_cidrs" {
  description = "Internal networks allowed to reach port 22 (connection = \"direct\"); never 0.0.0.0/0 or ::/0."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for c in var.ssh_ingress_cidrs : can(cidrhost(c, 0)) && !contains(["0.0.0.0/0", "::/0"], c) && try(tonumber(split("/", c)[1]) >= 8, false)])
    error_message = "ssh_ingress_cidrs must be CIDR blocks of /8 or narrower, never 0.0.0.0/0 or ::/0."
  }
}

variable "log_retention_days" {
  description = "Retention of the flow log and RDS log groups."
  type        = number
  default     = 365
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

variable "rill_http_port" {
  description = "rill's HTTP port (/readyz, /healthz, /metrics)."
  type        = number
  default     = 9464
}

variable "control_center_port" {
  description = "Control Center's web UI port."
  type        = number
  default     = 9021
}
