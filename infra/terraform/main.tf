# The AWS deployment of rill, wired from local modules (plain aws_* resources,
# no registry module): layout (provider-free: subnet plan, fixed host
# addresses, KRaft voters, the inventory), kms, network (VPC, subnets, NAT,
# flow logs, closed default group), security (security groups), iam (the
# hosts' SSM role), compute (the EC2 hosts) and database (RDS, when chosen).

data "aws_availability_zones" "available" {
  state = "available"
  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

locals {
  name_prefix = "${var.project}-${var.environment}"
  tags = {
    Project     = var.project
    Environment = var.environment
    ManagedBy   = "terraform"
  }
  availability_zones = slice(sort(data.aws_availability_zones.available.names), 0, var.az_count)
  postgresql_port    = 5432
}

module "layout" {
  source = "./modules/layout"

  vpc_cidr              = var.vpc_cidr
  availability_zones    = local.availability_zones
  kafka_node_count      = 3
  rill_count            = var.rill_count
  enable_control_center = var.enable_control_center
  postgresql_mode       = var.postgresql_mode
  kafka_client_port     = var.kafka_client_port
  kafka_controller_port = var.kafka_controller_port
  kafka_broker_port     = var.kafka_broker_port
  postgresql_port       = local.postgresql_port
  connection            = var.connection
  region                = var.region
  instance_ids          = module.compute.instance_ids
  rds_endpoint          = module.database.address
}

module "kms" {
  source      = "./modules/kms"
  name_prefix = local.name_prefix
}

module "network" {
  source = "./modules/network"

  name_prefix             = local.name_prefix
  vpc_cidr                = var.vpc_cidr
  availability_zones      = local.availability_zones
  subnet_cidrs            = module.layout.subnet_cidrs
  logs_kms_key_arn        = module.kms.logs_key_arn
  flow_log_retention_days = var.log_retention_days
}

module "security" {
  source = "./modules/security"

  name_prefix       = local.name_prefix
  vpc_id            = module.network.vpc_id
  vpc_cidr          = var.vpc_cidr
  ssh_ingress_cidrs = var.ssh_ingress_cidrs
  ports = {
    kafka_client     = var.kafka_client_port
    kafka_controller = var.kafka_controller_port
    kafka_broker     = var.kafka_broker_port
    postgresql       = local.postgresql_port
    rill_http        = var.rill_http_port
    control_center   = var.control_center_port
  }
}

module "iam" {
  source      = "./modules/iam"
  name_prefix = local.name_prefix
}

module "compute" {
  source = "./modules/compute"

  name_prefix           = local.name_prefix
  hosts                 = module.layout.hosts
  subnet_ids            = module.network.private_subnet_ids
  security_group_ids    = module.security.security_group_ids
  instance_profile_name = module.iam.instance_profile_name
  kms_key_arn           = module.kms.data_key_arn
  ami_id                = var.ami_id
  ssh_public_key        = var.ssh_public_key
  root_volume_gb        = var.root_volume_gb
  volume_tags           = local.tags
  instance_types = {
    kafka          = var.kafka_instance_type
    rill           = var.rill_instance_type
    postgresql     = var.postgresql_instance_type
    control_center = var.control_center_instance_type
  }
  data_volume_gb = {
    kafka      = var.kafka_data_volume_gb
    postgresql = var.postgresql_data_volume_gb
  }
}

module "database" {
  source = "./modules/database"

  enabled               = var.postgresql_mode == "rds"
  name_prefix           = local.name_prefix
  subnet_ids            = module.network.private_subnet_ids["db"]
  security_group_id     = module.security.security_group_ids["postgresql"]
  kms_key_arn           = module.kms.data_key_arn
  logs_kms_key_arn      = module.kms.logs_key_arn
  log_retention_days    = var.log_retention_days
  instance_class        = var.rds_instance_class
  allocated_storage_gb  = var.postgresql_data_volume_gb
  multi_az              = var.rds_multi_az
  backup_retention_days = var.rds_backup_retention_days
  deletion_protection   = var.rds_deletion_protection
  port                  = local.postgresql_port
}
