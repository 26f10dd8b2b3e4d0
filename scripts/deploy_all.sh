#!/usr/bin/env bash
# deploy_all.sh - creates the AWS deployment of rill and rolls it out:
# terraform init, plan to a file, apply exactly that plan (after a yes, or
# with --yes), write the generated Ansible inventory to
# ansible/inventories/aws/hosts.yml, wait until every host answers SSM, then
# ansible-playbook -i that inventory ansible/site.yml. Variables come from
# infra/terraform/terraform.tfvars (ignored by git) or TF_VAR_*; arguments
# after `--` go to ansible-playbook (e.g. -e @vault.yml --ask-vault-pass).
#
# Usage: scripts/deploy_all.sh [--yes] [--skip-ansible] [-- ANSIBLE_ARGS...]
# Needs: terraform, the aws CLI with credentials, the Session Manager plugin
# (connection = "ssm"), ansible-playbook (or infra/local/tools.sh ansible).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tf_dir=$root/infra/terraform
inventory=$root/ansible/inventories/aws/hosts.yml
yes=0 skip_ansible=0 ansible_args=()
die() { echo "deploy_all.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case $1 in
        --yes) yes=1 ;;
        --skip-ansible) skip_ansible=1 ;;
        --) shift; ansible_args=("$@"); break ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
    shift
done

command -v terraform >/dev/null || die "terraform not found: install Terraform >= 1.6 (https://developer.hashicorp.com/terraform/install)"
command -v aws >/dev/null || die "the aws CLI not found: install AWS CLI v2 and configure credentials (aws configure / AWS_PROFILE)"
aws sts get-caller-identity --output text --query Account >/dev/null 2>&1 ||
    die "the aws CLI has no working credentials (aws sts get-caller-identity failed)"
if [ "$skip_ansible" = 0 ]; then
    if ! command -v ansible-playbook >/dev/null; then
        ansible_bin=$("$root/infra/local/tools.sh" ansible 2>/dev/null) ||
            die "ansible-playbook not found and infra/local/tools.sh ansible could not install it"
        PATH=$ansible_bin:$PATH
    fi
    [ -f "$root/ansible/site.yml" ] || die "ansible/site.yml not found: the playbooks are not in this checkout"
fi

plan=$(mktemp "${TMPDIR:-/tmp}/rill-deploy.XXXXXX.tfplan")
trap 'rm -f "$plan"' EXIT

terraform -chdir="$tf_dir" init -input=false
terraform -chdir="$tf_dir" plan -input=false -out="$plan"
if [ "$yes" = 0 ]; then
    [ -t 0 ] || die "not a terminal: pass --yes to apply the plan above"
    read -r -p "Apply this plan? Type yes: " answer
    [ "$answer" = yes ] || die "not applied"
fi
terraform -chdir="$tf_dir" apply -input=false "$plan"

mkdir -p "$(dirname "$inventory")"
terraform -chdir="$tf_dir" output -raw ansible_inventory >"$inventory.tmp"
mv "$inventory.tmp" "$inventory"
echo "deploy_all.sh: inventory written to ${inventory#"$root"/}"

[ "$skip_ansible" = 0 ] || { echo "deploy_all.sh: --skip-ansible: playbooks not run"; exit 0; }

# The hosts install their SSM agent at first boot: wait, bounded, until every
# instance is online in SSM before Ansible tunnels through it.
if [ "$(terraform -chdir="$tf_dir" output -raw connection 2>/dev/null || echo ssm)" = ssm ]; then
    command -v session-manager-plugin >/dev/null ||
        die "session-manager-plugin not found: install the AWS Session Manager plugin (Ansible's SSH goes through SSM)"
    region=$(terraform -chdir="$tf_dir" output -raw region)
    ids=$(terraform -chdir="$tf_dir" output -json instance_ids | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin).values()))')
    deadline=$((SECONDS + ${SSM_WAIT_SECONDS:-900}))
    while :; do
        missing=
        for id in $ids; do
            status=$(aws ssm describe-instance-information --region "$region" \
                --filters "Key=InstanceIds,Values=$id" --query 'InstanceInformationList[0].PingStatus' \
                --output text 2>/dev/null || true)
            [ "$status" = Online ] || missing="$missing $id"
        done
        [ -z "$missing" ] && break
        [ $SECONDS -lt $deadline ] || die "not online in SSM after ${SSM_WAIT_SECONDS:-900} s:$missing"
        echo "deploy_all.sh: waiting for SSM on:$missing"
        sleep 15
    done
fi

cd "$root/ansible"
ansible-playbook -i "$inventory" site.yml "${ansible_args[@]}"
