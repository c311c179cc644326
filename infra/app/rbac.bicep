// Every role assignment in one place, data roles only (docs/deploy.md "Who may do what"):
// - the function app's two managed identities (production and `staging` slot) get what the Functions
//   host and the triggers need on the data account, and nothing at the management plane;
// - with the optional Azure ML workspace, the app may register models and submit jobs, and the
//   workspace and its compute cluster may read the curated data and write models, no more;
// - the optional user or group gets data access for uploads and reading results.
param dataStorageAccountName string
param applicationInsightsName string

@description('Principal ids of the production slot and of the staging slot.')
param appPrincipalIds array

@description('Object id of a user or group to grant data access; empty for none.')
param userPrincipalId string
param userPrincipalType string

@description('Container of the curated dataset (read by Azure ML jobs).')
param curatedContainerName string = 'sales-curated'

@description('Container of the model registry (written by Azure ML jobs).')
param modelsContainerName string = 'models'

@description('Name of the Azure ML workspace, or empty when there is none.')
param machineLearningWorkspaceName string

@description('Storage account of the Azure ML workspace (its identity-based system datastores), or empty.')
param machineLearningStorageAccountName string = ''

@description('Principal ids of the Azure ML workspace and of its compute cluster; empty without a workspace.')
param machineLearningPrincipalIds array = []

// Built-in role definition ids.
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  azureMlDataScientist: 'f6c7c914-8db3-469d-8ca1-694a8f32e121'
}

// Host storage by identity (AzureWebJobsStorage__accountName), per "Connecting to host storage with an
// identity" in the Functions docs: the host keeps leases, keys and blob receipts (Blob Data Owner), the
// blob trigger and the app use queues for work and poison messages (Queue Data Contributor), and the
// host writes its diagnostic events to tables (Table Data Contributor). Storage Account Contributor,
// which those docs list for the polling blob trigger, is not granted: ingest uses the Event Grid source
// (no container scan), and the role could re-enable shared keys on the account.
var appStorageRoles = [
  {
    id: roles.storageBlobDataOwner
    name: 'Storage Blob Data Owner'
  }
  {
    id: roles.storageQueueDataContributor
    name: 'Storage Queue Data Contributor'
  }
  {
    id: roles.storageTableDataContributor
    name: 'Storage Table Data Contributor'
  }
]

var hasMachineLearning = !empty(machineLearningWorkspaceName)
var machineLearningPrincipals = hasMachineLearning ? machineLearningPrincipalIds : []

resource dataStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: dataStorageAccountName
}

resource curatedContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  name: '${dataStorageAccountName}/default/${curatedContainerName}'
}

resource modelsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  name: '${dataStorageAccountName}/default/${modelsContainerName}'
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource appStorage 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for pair in range(0, length(appPrincipalIds) * length(appStorageRoles)): {
  name: guid(dataStorage.id, appPrincipalIds[pair / length(appStorageRoles)], appStorageRoles[pair % length(appStorageRoles)].id)
  scope: dataStorage
  properties: {
    principalId: appPrincipalIds[pair / length(appStorageRoles)]
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', appStorageRoles[pair % length(appStorageRoles)].id)
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

resource machineLearningWorkspace 'Microsoft.MachineLearningServices/workspaces@2024-10-01' existing = if (hasMachineLearning) {
  name: hasMachineLearning ? machineLearningWorkspaceName : 'none'
}

resource machineLearningStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = if (hasMachineLearning) {
  name: hasMachineLearning ? machineLearningStorageAccountName : 'none'
}

// The app registers models (the registry mirror) and submits the bulk retraining job.
resource appMachineLearning 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for principalId in (hasMachineLearning ? appPrincipalIds : []): {
  name: guid(machineLearningWorkspace.id, principalId, roles.azureMlDataScientist)
  scope: machineLearningWorkspace
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.azureMlDataScientist)
  }
}]

// The workspace's system datastores authenticate with identities (systemDatastoresAuthMode
// identity): whoever uploads model files or job code, and the cluster that reads them, needs blob
// data access on the workspace's own storage account.
var machineLearningStorageWriters = concat(hasMachineLearning ? appPrincipalIds : [], machineLearningPrincipals)

resource machineLearningDatastore 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for principalId in machineLearningStorageWriters: {
  name: guid(machineLearningStorage.id, principalId, roles.storageBlobDataContributor)
  scope: machineLearningStorage
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
  }
}]

// Bulk retraining on Azure ML: the workspace and cluster identities read the curated series ...
resource machineLearningCurated 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for principalId in machineLearningPrincipals: {
  name: guid(curatedContainer.id, principalId, roles.storageBlobDataReader)
  scope: curatedContainer
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataReader)
  }
}]

// ... and publish versions and move champions in the models container (write-once versions,
// if_match pointer writes and the per-series lease, as the queue retrain does), nowhere else.
resource machineLearningModels 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for principalId in machineLearningPrincipals: {
  name: guid(modelsContainer.id, principalId, roles.storageBlobDataContributor)
  scope: modelsContainer
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
  }
}]

// What the deployment granted, for scripts/wait_for_roles.py (the Infra stage waits until every
// assignment is visible before the code is deployed).
output appAssignments array = [for pair in range(0, length(appPrincipalIds) * length(appStorageRoles)): {
  principalId: appPrincipalIds[pair / length(appStorageRoles)]
  roleDefinitionId: appStorageRoles[pair % length(appStorageRoles)].id
  role: appStorageRoles[pair % length(appStorageRoles)].name
  scope: dataStorage.id
}]
