# Terraform and provider versions of the AWS deployment of rill. State is
# local by default (infra/terraform/terraform.tfstate, ignored by git); a
# team adds an S3 backend block here (see README.md).
terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}
