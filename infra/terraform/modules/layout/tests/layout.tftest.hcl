# terraform test cases of the provider-free layout module: the subnet plan,
# host addresses spread over the zones, KRaft node ids, the quorum voters and
# bootstrap strings, the inventory's groups and host variables (the rollout
# contract's), the RDS and no-Control-Center variants, and refused inputs.
# Run: terraform -chdir=infra/terraform/modules/layout init -backend=false
#      terraform -chdir=infra/terraform/modules/layout test

variables {
  vpc_cidr           = "10.40.0.0/16"
  availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
  region             = "eu-west-1"
}

run "subnet_plan" {
  command = plan

  assert {
    condition     = output.subnet_cidrs["public"] == ["10.40.0.0/24", "10.40.1.0/24", "10.40.2.0/24"]
    error_message = "public subnets: ${jsonencode(output.subnet_cidrs["public"])}"
  }
  assert {
    condition     = output.subnet_cidrs["kafka"] == ["10.40.4.0/24", "10.40.5.0/24", "10.40.6.0/24"]
    error_message = "kafka subnets: ${jsonencode(output.subnet_cidrs["kafka"])}"
  }
  assert {
    condition     = output.subnet_cidrs["rill"] == ["10.40.8.0/24", "10.40.9.0/24", "10.40.10.0/24"]
    error_message = "rill subnets: ${jsonencode(output.subnet_cidrs["rill"])}"
  }
  assert {
    condition     = output.subnet_cidrs["db"] == ["10.40.12.0/24", "10.40.13.0/24", "10.40.14.0/24"]
    error_message = "db subnets: ${jsonencode(output.subnet_cidrs["db"])}"
  }
  assert {
    condition     = length(distinct(flatten(values(output.subnet_cidrs)))) == 12
    error_message = "subnets overlap"
  }
}

run "quorum_and_bootstrap" {
  command = plan

  assert {
    condition     = output.kafka_node_ids == { kafka1 = 1, kafka2 = 2, kafka3 = 3 }
    error_message = "node ids: ${jsonencode(output.kafka_node_ids)}"
  }
  assert {
    condition     = output.quorum_voters == "1@10.40.4.10:9093,2@10.40.5.10:9093,3@10.40.6.10:9093"
    error_message = "voters: ${output.quorum_voters}"
  }
  assert {
    condition     = output.bootstrap_servers == "10.40.4.10:9092,10.40.5.10:9092,10.40.6.10:9092"
    error_message = "bootstrap: ${output.bootstrap_servers}"
  }
  assert {
    condition     = [for n in ["kafka1", "kafka2", "kafka3"] : output.hosts[n].az_index] == [0, 1, 2]
    error_message = "the brokers are not one per zone"
  }
}

run "hosts_spread_and_unique" {
  command = plan

  variables {
    rill_count = 4
  }

  assert {
    condition     = sort(keys(output.hosts)) == sort(["kafka1", "kafka2", "kafka3", "rill1", "rill2", "rill3", "rill4", "postgresql1", "control_center1"])
    error_message = "hosts: ${jsonencode(keys(output.hosts))}"
  }
  assert {
    condition     = output.hosts["rill4"].private_ip == "10.40.8.11" && output.hosts["rill4"].az_index == 0
    error_message = "rill4: ${jsonencode(output.hosts["rill4"])}"
  }
  assert {
    condition     = length(distinct([for h in values(output.hosts) : h.private_ip])) == length(output.hosts)
    error_message = "two hosts share an address"
  }
  assert {
    condition     = output.hosts["control_center1"].private_ip == "10.40.8.6" && output.hosts["postgresql1"].private_ip == "10.40.12.10"
    error_message = "control center / postgresql addresses"
  }
  assert {
    condition     = alltrue([for n, h in output.hosts : h.data_volume == contains(["kafka", "postgresql"], h.role)])
    error_message = "data volumes belong to the kafka and postgresql hosts only"
  }
}

run "inventory_contract" {
  command = plan

  variables {
    instance_ids = { kafka1 = "i-0000000000000001a", rill1 = "i-0000000000000002b" }
  }

  assert {
    condition     = keys(yamldecode(output.inventory_yaml)["all"]["children"]) == ["bastion", "control_center", "kafka", "postgresql", "rill"]
    error_message = "groups: ${jsonencode(keys(yamldecode(output.inventory_yaml)["all"]["children"]))}"
  }
  assert {
    condition = yamldecode(output.inventory_yaml)["all"]["children"]["kafka"]["hosts"]["kafka2"] == {
      ansible_host          = "10.40.5.10"
      private_ip            = "10.40.5.10"
      kafka_node_id         = 2
      kafka_advertised_host = "10.40.5.10"
      kafka_client_port     = 9092
      kafka_broker_port     = 9094
      kafka_controller_port = 9093
    }
    error_message = "kafka2: ${jsonencode(yamldecode(output.inventory_yaml)["all"]["children"]["kafka"]["hosts"]["kafka2"])}"
  }
  assert {
    condition     = yamldecode(output.inventory_yaml)["all"]["children"]["kafka"]["hosts"]["kafka1"]["ansible_host"] == "i-0000000000000001a"
    error_message = "through SSM a host is reached by its instance id"
  }
  assert {
    condition     = yamldecode(output.inventory_yaml)["all"]["children"]["rill"]["hosts"]["rill1"]["ansible_host"] == "i-0000000000000002b"
    error_message = "rill1's ansible_host"
  }
  assert {
    condition     = strcontains(yamldecode(output.inventory_yaml)["all"]["vars"]["ansible_ssh_common_args"], "AWS-StartSSHSession") && strcontains(yamldecode(output.inventory_yaml)["all"]["vars"]["ansible_ssh_common_args"], "--region eu-west-1")
    error_message = "the SSM proxy command"
  }
  assert {
    condition = {
      for k, v in yamldecode(output.inventory_yaml)["all"]["vars"] : k => v if contains(["deploy_root", "service_manager", "ansible_user"], k)
    } == { deploy_root = "", service_manager = "systemd", ansible_user = "admin" }
    error_message = "all vars: ${jsonencode(yamldecode(output.inventory_yaml)["all"]["vars"])}"
  }
  assert {
    condition     = yamldecode(output.inventory_yaml)["all"]["vars"]["postgresql_port"] == 5432 && yamldecode(output.inventory_yaml)["all"]["children"]["kafka"]["hosts"]["kafka1"]["kafka_node_id"] == 1
    error_message = "postgresql_port and kafka_node_id must be numbers in the YAML"
  }
  assert {
    condition     = keys(yamldecode(output.inventory_yaml)["all"]["children"]["postgresql"]["hosts"]) == ["postgresql1"] && keys(yamldecode(output.inventory_yaml)["all"]["children"]["control_center"]["hosts"]) == ["control_center1"]
    error_message = "postgresql and control_center groups"
  }
  assert {
    condition     = yamldecode(output.inventory_yaml)["all"]["children"]["bastion"] == {}
    error_message = "the bastion group is empty with SSM"
  }
  assert {
    condition     = startswith(output.inventory_yaml, "# Ansible inventory generated by infra/terraform")
    error_message = "the inventory starts with its header comment"
  }
}

run "rds_and_no_control_center" {
  command = plan

  variables {
    postgresql_mode       = "rds"
    rds_endpoint          = "rill-db.abc.eu-west-1.rds.amazonaws.com"
    enable_control_center = false
    connection            = "direct"
    availability_zones    = ["eu-west-1a", "eu-west-1b"]
    rill_count            = 1
  }

  assert {
    condition     = sort(keys(output.hosts)) == tolist(["kafka1", "kafka2", "kafka3", "rill1"])
    error_message = "hosts: ${jsonencode(keys(output.hosts))}"
  }
  assert {
    condition     = output.quorum_voters == "1@10.40.4.10:9093,2@10.40.5.10:9093,3@10.40.4.11:9093"
    error_message = "voters over two zones: ${output.quorum_voters}"
  }
  assert {
    condition     = yamldecode(output.inventory_yaml)["all"]["children"]["postgresql"] == {} && yamldecode(output.inventory_yaml)["all"]["children"]["control_center"] == {}
    error_message = "empty groups"
  }
  assert {
    condition     = yamldecode(output.inventory_yaml)["all"]["vars"]["postgresql_external_host"] == "rill-db.abc.eu-west-1.rds.amazonaws.com"
    error_message = "the RDS endpoint in all vars"
  }
  assert {
    condition     = !contains(keys(yamldecode(output.inventory_yaml)["all"]["vars"]), "ansible_ssh_common_args")
    error_message = "no SSM proxy when connecting directly"
  }
  assert {
    condition     = yamldecode(output.inventory_yaml)["all"]["children"]["kafka"]["hosts"]["kafka3"]["ansible_host"] == "10.40.4.11"
    error_message = "direct connection uses the private address"
  }
}

run "five_nodes" {
  command = plan

  variables {
    kafka_node_count = 5
  }

  assert {
    condition     = output.quorum_voters == "1@10.40.4.10:9093,2@10.40.5.10:9093,3@10.40.6.10:9093,4@10.40.4.11:9093,5@10.40.5.11:9093"
    error_message = "five voters: ${output.quorum_voters}"
  }
}

run "refuses_even_quorum" {
  command = plan

  variables {
    kafka_node_count = 4
  }

  expect_failures = [var.kafka_node_count]
}

run "refuses_bad_inputs" {
  command = plan

  variables {
    vpc_cidr        = "10.40.0.0/24"
    postgresql_mode = "aurora"
    rill_count      = 0
  }

  expect_failures = [var.vpc_cidr, var.postgresql_mode, var.rill_count]
}

run "refuses_malformed_cidr" {
  command = plan

  variables {
    vpc_cidr = "10.40.0.0"
  }

  expect_failures = [var.vpc_cidr]
}
