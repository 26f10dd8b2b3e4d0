# The provider-free part of the AWS layout: the subnet plan (cidrsubnet per
# tier and zone), the fixed private address of every host, the KRaft node ids
# and quorum voters, the bootstrap string, and the Ansible inventory text in
# the groups and host variables of the rollout contract (kafka, postgresql,
# rill, control_center, bastion). Hosts get fixed addresses so that the
# quorum's voters stay valid when an instance is replaced.

locals {
  az_count = length(var.availability_zones)

  # Four tiers, each with room for four zones: subnet numbers tier*4 + zone.
  tiers = ["public", "kafka", "rill", "db"]
  subnet_cidrs = {
    for t_index, tier in local.tiers : tier => [
      for z in range(local.az_count) : cidrsubnet(var.vpc_cidr, var.subnet_newbits, t_index * 4 + z)
    ]
  }

  # Host numbers inside a subnet: AWS reserves the first four addresses;
  # Control Center takes 6, the tier's hosts start at 10.
  first_host = 10

  kafka_hosts = {
    for i in range(var.kafka_node_count) : "kafka${i + 1}" => {
      role        = "kafka"
      tier        = "kafka"
      az_index    = i % local.az_count
      private_ip  = cidrhost(local.subnet_cidrs["kafka"][i % local.az_count], local.first_host + floor(i / local.az_count))
      data_volume = true
      node_id     = i + 1
    }
  }

  rill_hosts = {
    for i in range(var.rill_count) : "rill${i + 1}" => {
      role        = "rill"
      tier        = "rill"
      az_index    = i % local.az_count
      private_ip  = cidrhost(local.subnet_cidrs["rill"][i % local.az_count], local.first_host + floor(i / local.az_count))
      data_volume = false
      node_id     = 0
    }
  }

  postgresql_hosts = var.postgresql_mode == "instance" ? {
    postgresql1 = {
      role        = "postgresql"
      tier        = "db"
      az_index    = 0
      private_ip  = cidrhost(local.subnet_cidrs["db"][0], local.first_host)
      data_volume = true
      node_id     = 0
    }
  } : {}

  control_center_hosts = var.enable_control_center ? {
    control_center1 = {
      role        = "control_center"
      tier        = "rill"
      az_index    = 0
      private_ip  = cidrhost(local.subnet_cidrs["rill"][0], 6)
      data_volume = false
      node_id     = 0
    }
  } : {}

  hosts = merge(local.kafka_hosts, local.rill_hosts, local.postgresql_hosts, local.control_center_hosts)

  kafka_names = sort(keys(local.kafka_hosts))
  quorum_voters = join(",", [
    for name in local.kafka_names :
    "${local.kafka_hosts[name].node_id}@${local.kafka_hosts[name].private_ip}:${var.kafka_controller_port}"
  ])
  bootstrap_servers = join(",", [
    for name in local.kafka_names : "${local.kafka_hosts[name].private_ip}:${var.kafka_client_port}"
  ])

  # Through SSM, ssh's target is the instance id and the tunnel is opened by
  # the Session Manager plugin; directly, it is the private address.
  ssm_proxy = join(" ", [
    "-o StrictHostKeyChecking=accept-new",
    "-o ProxyCommand=\"aws ssm start-session --target %h --document-name AWS-StartSSHSession --parameters portNumber=%p${var.region == "" ? "" : " --region ${var.region}"}\"",
  ])
  connection_vars = var.connection == "ssm" ? { ansible_ssh_common_args = local.ssm_proxy } : {}

  ansible_host = {
    for name, h in local.hosts : name => (
      var.connection == "ssm" ? lookup(var.instance_ids, name, h.private_ip) : h.private_ip
    )
  }

  base_host_vars = {
    for name, h in local.hosts : name => {
      ansible_host = local.ansible_host[name]
      private_ip   = h.private_ip
    }
  }

  group_hosts = {
    for group, members in {
      kafka          = local.kafka_hosts
      postgresql     = local.postgresql_hosts
      rill           = local.rill_hosts
      control_center = local.control_center_hosts
    } : group => { for name, h in members : name => local.base_host_vars[name] }
  }

  kafka_inventory_hosts = {
    for name, h in local.kafka_hosts : name => merge(local.base_host_vars[name], {
      kafka_node_id         = h.node_id
      kafka_advertised_host = h.private_ip
      kafka_client_port     = var.kafka_client_port
      kafka_broker_port     = var.kafka_broker_port
      kafka_controller_port = var.kafka_controller_port
    })
  }

  # RDS has no host to configure: the postgresql group stays empty and every
  # host learns the endpoint.
  postgresql_vars = merge(
    { postgresql_port = var.postgresql_port },
    var.postgresql_mode == "rds" ? { postgresql_external_host = var.rds_endpoint } : {},
  )

  # Empty groups are written as {} (no hosts key), which the YAML inventory
  # plugin reads as a group without members.
  inventory = {
    all = {
      vars = merge({
        ansible_user               = var.ansible_user
        ansible_python_interpreter = "/usr/bin/python3"
        deploy_root                = ""
        service_manager            = "systemd"
      }, local.connection_vars, local.postgresql_vars)
      children = {
        kafka          = { hosts = local.kafka_inventory_hosts }
        postgresql     = length(local.group_hosts["postgresql"]) > 0 ? { hosts = local.group_hosts["postgresql"] } : {}
        rill           = { hosts = local.group_hosts["rill"] }
        control_center = length(local.group_hosts["control_center"]) > 0 ? { hosts = local.group_hosts["control_center"] } : {}
        bastion        = {}
      }
    }
  }

  inventory_text = join("", [
    "# Ansible inventory generated by infra/terraform (module layout); do not edit:\n",
    "# scripts/deploy_all.sh rewrites it from `terraform output -raw ansible_inventory`.\n",
    yamlencode(local.inventory),
  ])
}
