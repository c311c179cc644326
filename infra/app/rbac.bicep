// Every role assignment in one place. The function app's two managed identities (production and
// `staging` slot) get what the Functions host and the triggers need on the data account; the
// optional user or group gets data access for uploads and reading results.
param dataStorageAccountName string
param applicationInsightsName string

@description('Principal ids of the production slot and of the staging slot.')
param appPrincipalIds array

@description('Object id of a user or group to grant data access; empty for none.')
param userPrincipalId string
param userPrincipalType string

@description('Name of the Azure ML workspace, or empty when there is none.')
param machineLearningWorkspaceName string

// Built-in role definition ids.
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageAccountContributor: '17d1049b-9a84-46fb-8f53-869881c3d3ab'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  azureMlDataScientist: 'f6c7c914-8db3-469d-8ca1-694a8f32e121'
}

// Host storage by identity (AzureWebJobsStorage__accountName) with a blob trigger: the host keeps
// leases and blob receipts (Blob Data Owner), the blob and queue triggers use queues for work and
// poison messages (Queue Data Contributor), and the host manages the account (Account Contributor).
var appStorageRoles = [
  roles.storageBlobDataOwner
  roles.storageQueueDataContributor
  roles.storageAccountContributor
]

resource dataStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: dataStorageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource appStorage 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for pair in range(0, length(appPrincipalIds) * length(appStorageRoles)): {
  name: guid(dataStorage.id, appPrincipalIds[pair / length(appStorageRoles)], appStorageRoles[pair % length(appStorageRoles)])
  scope: dataStorage
  properties: {
    principalId: appPrincipalIds[pair / length(appStorageRoles)]
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', appStorageRoles[pair % length(appStorageRoles)])
  }
}]

// Application Insights accepts only Entra-authenticated telemetry.
resource appTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for principalId in appPrincipalIds: {
  name: guid(applicationInsights.id, principalId, roles.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
  }
}]

resource userData 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(userPrincipalId)) {
  name: guid(dataStorage.id, userPrincipalId, roles.storageBlobDataContributor)
  scope: dataStorage
  properties: {
    principalId: userPrincipalId
    principalType: userPrincipalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
  }
}

resource machineLearningWorkspace 'Microsoft.MachineLearningServices/workspaces@2024-10-01' existing = if (!empty(machineLearningWorkspaceName)) {
  name: empty(machineLearningWorkspaceName) ? 'none' : machineLearningWorkspaceName
}

resource appMachineLearning 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for principalId in (empty(machineLearningWorkspaceName) ? [] : appPrincipalIds): {
  name: guid(machineLearningWorkspace.id, principalId, roles.azureMlDataScientist)
  scope: machineLearningWorkspace
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.azureMlDataScientist)
  }
}]
