#!/usr/bin/env bash
# destroy_all.sh - tears the AWS deployment of rill down and proves it: after
# an explicit confirmation (type the project-environment name, or --yes), it
# lifts RDS deletion protection when there is an RDS instance, runs terraform
# destroy, then asks the Resource Groups Tagging API for anything still
# tagged Project=<project> Environment=<environment> in the region (polling
# to a deadline: deletions settle slowly), ignoring what is already on its
# way out (terminated instances, deleted NAT gateways, KMS keys pending
# deletion), plus IAM roles with the deployment's name prefix (IAM is global
# and outside that API). Exits non-zero when anything remains, listing it.
#
# Usage: scripts/destroy_all.sh [--yes]
# Needs: terraform, the aws CLI with credentials.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tf_dir=$root/infra/terraform
yes=0
die() { echo "destroy_all.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
    case $1 in
        --yes) yes=1 ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) die "unknown argument $1 (see --help)" ;;
    esac
    shift
done

command -v terraform >/dev/null || die "terraform not found: install Terraform >= 1.6"
command -v aws >/dev/null || die "the aws CLI not found: install AWS CLI v2 and configure credentials"
aws sts get-caller-identity --output text --query Account >/dev/null 2>&1 ||
    die "the aws CLI has no working credentials (aws sts get-caller-identity failed)"

terraform -chdir="$tf_dir" init -input=false >/dev/null
# What to look for afterwards, read before the state is gone.
out() { terraform -chdir="$tf_dir" output -raw "$1" 2>/dev/null || true; }
project=$(out project) environment=$(out environment) region=$(out region)
if [ -z "$project" ] || [ -z "$environment" ] || [ -z "$region" ]; then
    die "no project/environment/region outputs in the state (nothing deployed from $tf_dir?)"
fi
name="$project-$environment"

if [ "$yes" = 0 ]; then
    [ -t 0 ] || die "not a terminal: pass --yes to destroy $name"
    echo "This destroys every resource of $name in $region (the Kafka data and the PostgreSQL data too)."
    read -r -p "Type $name to confirm: " answer
    [ "$answer" = "$name" ] || die "not confirmed, nothing destroyed"
fi

vars=(-var "region=$region" -var "project=$project" -var "environment=$environment")
if terraform -chdir="$tf_dir" state list 2>/dev/null | grep -q '^module\.database\.aws_db_instance\.this'; then
    echo "destroy_all.sh: lifting RDS deletion protection"
    terraform -chdir="$tf_dir" apply -input=false -auto-approve "${vars[@]}" \
        -var rds_deletion_protection=false -target=module.database.aws_db_instance.this
fi
terraform -chdir="$tf_dir" destroy -input=false -auto-approve "${vars[@]}"

gone() { # ARN: 0 when the resource is already on its way out
    local arn=$1 id=${1##*/} state
    case $arn in
        arn:*:ec2:*:instance/*)
            state=$(aws ec2 describe-instances --region "$region" --instance-ids "$id" \
                --query 'Reservations[0].Instances[0].State.Name' --output text 2>/dev/null) || return 0
            [ "$state" = terminated ] ;;
        arn:*:ec2:*:natgateway/*)
            state=$(aws ec2 describe-nat-gateways --region "$region" --nat-gateway-ids "$id" \
                --query 'NatGateways[0].State' --output text 2>/dev/null) || return 0
            [ "$state" = deleted ] ;;
        arn:*:kms:*:key/*)
            state=$(aws kms describe-key --region "$region" --key-id "$arn" \
                --query 'KeyMetadata.KeyState' --output text 2>/dev/null) || return 0
            [ "$state" = PendingDeletion ] ;;
        *) return 1 ;;
    esac
}

remaining() {
    local arn
    aws resourcegroupstaggingapi get-resources --region "$region" \
        --tag-filters "Key=Project,Values=$project" "Key=Environment,Values=$environment" \
        --query 'ResourceTagMappingList[].ResourceARN' --output text | tr '\t' '\n' |
        while read -r arn; do
            if [ -z "$arn" ] || [ "$arn" = None ]; then continue; fi
            gone "$arn" || echo "$arn"
        done
    aws iam list-roles --query "Roles[?starts_with(RoleName, '$name-')].Arn" --output text |
        tr '\t' '\n' | grep -v '^None$' | grep . || true
}

deadline=$((SECONDS + ${DESTROY_CHECK_SECONDS:-600}))
while :; do
    left=$(remaining)
    [ -z "$left" ] && { echo "destroy_all.sh: nothing tagged Project=$project Environment=$environment remains in $region"; exit 0; }
    if [ $SECONDS -ge $deadline ]; then
        echo "destroy_all.sh: still there after ${DESTROY_CHECK_SECONDS:-600} s:" >&2
        while read -r arn; do echo "  $arn"; done <<<"$left" >&2
        echo "(an RDS final snapshot, ${name}-pg-final, is kept on purpose: aws rds delete-db-snapshot --db-snapshot-identifier ${name}-pg-final)" >&2
        exit 1
    fi
    echo "destroy_all.sh: waiting for $(echo "$left" | wc -l) resources to disappear"
    sleep 20
done
