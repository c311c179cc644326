#!/usr/bin/env bash
# Post-deployment step: subscribe the production ingest function to BlobCreated events of the incoming
# container, through the Event Grid system topic that infra/ creates on the data account. Run it after
# the code is in production (the webhook URL needs the host's blobs_extension system key, which exists
# only once the host has started with the Event Grid blob trigger). Idempotent: it updates the endpoint.
#
#   scripts/eventgrid_subscription.sh RESOURCE_GROUP FUNCTION_APP SYSTEM_TOPIC [CONTAINER]
set -euo pipefail
# shellcheck source=scripts/function_keys.sh
source "$(dirname "$0")/function_keys.sh"

if [[ $# -lt 3 ]]; then
  echo "usage: $0 RESOURCE_GROUP FUNCTION_APP SYSTEM_TOPIC [CONTAINER]" >&2
  exit 2
fi
resource_group=$1 app=$2 topic=$3 container=${4:-sales-incoming}
function_name=ingest
subscription_name=ingest-blob-created

host=$(az functionapp show --resource-group "$resource_group" --name "$app" --query defaultHostName --output tsv)

# The blobs_extension key appears once the host runs a blob trigger with source=EventGrid.
key=$(wait_for_key "$resource_group" "$app" systemKeys.blobs_extension)
mask_secret "$key"

endpoint="https://$host/runtime/webhooks/blobs?functionName=Host.Functions.$function_name&code=$key"
az eventgrid system-topic event-subscription create \
  --resource-group "$resource_group" \
  --system-topic-name "$topic" \
  --name "$subscription_name" \
  --endpoint-type webhook \
  --endpoint "$endpoint" \
  --included-event-types Microsoft.Storage.BlobCreated \
  --subject-begins-with "/blobServices/default/containers/$container/" \
  --max-delivery-attempts 30 \
  --event-ttl 1440 \
  --output none
echo "Event Grid subscription $subscription_name on $topic delivers BlobCreated in $container to $app/$function_name"
