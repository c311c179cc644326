# Sourced by the deployment scripts (smoke_azure.sh, eventgrid_subscription.sh): reading a key of the
# function app with the Azure CLI, and hiding it from Azure Pipelines logs.

# wait_for_key RESOURCE_GROUP FUNCTION_APP QUERY [az options...]
# Prints the key that the JMESPath QUERY selects from `az functionapp keys list`. The host writes its
# keys when it first starts, so a freshly deployed slot is given five minutes.
wait_for_key() {
  local resource_group=$1 app=$2 query=$3 key=""
  shift 3
  for _ in $(seq 1 30); do
    key=$(az functionapp keys list --resource-group "$resource_group" --name "$app" "$@" \
      --query "$query" --output tsv 2>/dev/null || true)
    if [[ -n $key ]]; then
      printf '%s' "$key"
      return 0
    fi
    sleep 10
  done
  echo "no $query key on $app $* after 5 minutes: is the host running?" >&2
  return 1
}

# mask_secret VALUE: Azure Pipelines replaces VALUE with *** in every later log line.
mask_secret() {
  if [[ ${TF_BUILD:-} == True ]]; then
    echo "##vso[task.setsecret]$1"
  fi
}
