# The AWS provider: the region from var.region, and default tags on every
# resource that takes tags, so that scripts/destroy_all.sh can prove that
# nothing tagged Project=<project>, Environment=<environment> remains.
provider "aws" {
  region = var.region

  default_tags {
    tags = local.tags
  }
}
