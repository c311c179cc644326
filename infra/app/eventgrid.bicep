// Event Grid system topic of the data account: the source of the BlobCreated events that trigger
// `ingest` (blob trigger with source EventGrid). Its event subscription is created after the code is
// deployed, by scripts/eventgrid_subscription.sh, because the webhook needs the host's
// blobs_extension system key.
param name string
param storageAccountName string
param location string
param tags object

resource dataStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource systemTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: name
  location: location
  tags: tags
  properties: {
    source: dataStorage.id
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

output name string = systemTopic.name
