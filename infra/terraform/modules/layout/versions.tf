# The layout module needs no provider: everything in it is computed from its
# inputs, so `terraform init -backend=false` and `terraform test` run on a
# machine without network access or cloud credentials.
terraform {
  required_version = ">= 1.6.0"
}
