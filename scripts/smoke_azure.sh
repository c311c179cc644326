#!/usr/bin/env bash
# Smoke test of one slot of the deployed function app: reads the slot's hostname and default function
# key with the Azure CLI (signed in, e.g. inside an AzureCLI@2 task) and runs scripts/smoke_test.py.
#
#   scripts/smoke_azure.sh RESOURCE_GROUP FUNCTION_APP SLOT [smoke_test.py options...]
#
# SLOT is `staging` or `production`. The key never appears in the log (masked on Azure Pipelines).
# SMOKE_ALLOW_MISSING_CHAMPION=true (the pipeline's firstDeployment parameter, passed through `env:`)
# adds --allow-missing-champion.
set -euo pipefail
# shellcheck source=scripts/function_keys.sh
source "$(dirname "$0")/function_keys.sh"

if [[ $# -lt 3 ]]; then
  echo "usage: $0 RESOURCE_GROUP FUNCTION_APP SLOT [smoke_test.py options...]" >&2
  exit 2
fi
resource_group=$1 app=$2 slot=$3
shift 3
first_deployment=()
case ${SMOKE_ALLOW_MISSING_CHAMPION:-false} in
  [Tt]rue) first_deployment=(--allow-missing-champion) ;;
  [Ff]alse) ;;
  *)
    echo "SMOKE_ALLOW_MISSING_CHAMPION must be true or false, got '$SMOKE_ALLOW_MISSING_CHAMPION'" >&2
    exit 2
    ;;
esac
slot_args=()
if [[ $slot != production ]]; then
  slot_args=(--slot "$slot")
fi

host=$(az functionapp show --resource-group "$resource_group" --name "$app" "${slot_args[@]}" \
  --query defaultHostName --output tsv)

key=$(wait_for_key "$resource_group" "$app" functionKeys.default "${slot_args[@]}")
mask_secret "$key"

FORECASTOPS_FUNCTION_KEY=$key exec python3 "$(dirname "$0")/smoke_test.py" --base-url "https://$host" "${first_deployment[@]}" "$@"
