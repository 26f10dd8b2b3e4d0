# terraform test cases of the root module against a mocked AWS provider (no
# credentials, no API call; the provider's schema comes from `terraform init`,
# here a local plugin mirror): the modules wire together, every host exists,
# the outputs and the generated inventory carry the instance ids and the
# contract's groups, the RDS variant replaces the PostgreSQL host, and a
# world-open SSH range is refused. Run by tests/infra/check.sh when the
# provider is available.

mock_provider "aws" {
  mock_data "aws_availability_zones" {
    defaults = { names = ["eu-west-1c", "eu-west-1a", "eu-west-1b", "eu-west-1d"] }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_ami" {
    defaults = { id = "ami-0123456789abcdef0" }
  }
  # The provider validates ARNs given to other resources: mock ones.
  mock_resource "aws_kms_key" {
    defaults = { arn = "arn:aws:kms:eu-west-1:123456789012:key/00000000-0000-0000-0000-000000000000" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:mock" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mock" }
  }
  mock_resource "aws_db_instance" {
    defaults = { address = "rill-dev-pg.mock.eu-west-1.rds.amazonaws.com" }
  }
}

variables {
  region         = "eu-west-1"
  ssh_public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMockKeyForTestsOnlyNotARealKey0000000000 test"
}

run "default_topology" {
  command = apply

  assert {
    condition     = sort(keys(output.instance_ids)) == sort(["kafka1", "kafka2", "kafka3", "rill1", "rill2", "postgresql1", "control_center1"])
    error_message = "instances: ${jsonencode(keys(output.instance_ids))}"
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
    condition = alltrue([
      for name, h in yamldecode(output.ansible_inventory)["all"]["children"]["kafka"]["hosts"] :
      h.ansible_host == output.instance_ids[name]
    ])
    error_message = "the inventory's kafka hosts are not reached by their instance ids"
  }
  assert {
    condition     = yamldecode(output.ansible_inventory)["all"]["children"]["rill"]["hosts"]["rill2"]["ansible_host"] == output.instance_ids["rill2"]
    error_message = "rill2's ansible_host"
  }
  assert {
    condition     = output.postgresql_address == "10.40.12.10" && output.control_center_private_ip == "10.40.8.6"
    error_message = "postgresql ${output.postgresql_address}, control center ${output.control_center_private_ip}"
  }
  assert {
    condition     = strcontains(output.control_center_tunnel, output.instance_ids["control_center1"]) && strcontains(output.control_center_tunnel, "AWS-StartPortForwardingSession")
    error_message = "control center tunnel: ${output.control_center_tunnel}"
  }
  assert {
    condition     = output.rds_master_secret_arn == ""
    error_message = "no RDS by default"
  }
}

run "rds_without_control_center" {
  command = apply

  variables {
    postgresql_mode       = "rds"
    enable_control_center = false
    rill_count            = 3
    az_count              = 2
  }

  assert {
    condition     = sort(keys(output.instance_ids)) == sort(["kafka1", "kafka2", "kafka3", "rill1", "rill2", "rill3"])
    error_message = "instances: ${jsonencode(keys(output.instance_ids))}"
  }
  assert {
    condition     = output.postgresql_address != "" && output.postgresql_address == yamldecode(output.ansible_inventory)["all"]["vars"]["postgresql_external_host"]
    error_message = "the RDS address in the inventory"
  }
  assert {
    condition     = yamldecode(output.ansible_inventory)["all"]["children"]["postgresql"] == {} && output.control_center_tunnel == ""
    error_message = "no PostgreSQL host, no Control Center"
  }
  assert {
    condition     = output.quorum_voters == "1@10.40.4.10:9093,2@10.40.5.10:9093,3@10.40.4.11:9093"
    error_message = "voters over two zones: ${output.quorum_voters}"
  }
}

run "refuses_world_ssh" {
  command = plan

  variables {
    ssh_ingress_cidrs = ["10.8.0.0/16", "0.0.0.0/0"]
  }

  expect_failures = [var.ssh_ingress_cidrs]
}
