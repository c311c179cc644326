// Optional Azure ML workspace (model registry and experiment tracking), with the key vault and the
// storage account a workspace requires. Created only when enableMachineLearning is true.
param workspaceName string
param keyVaultName string
param storageAccountName string
param applicationInsightsId string
param subnetId string
param location string
param tags object

module storage 'storage.bicep' = {
  name: 'ml-storage'
  params: {
    name: storageAccountName
    location: location
    tags: tags
    allowSharedKeyAccess: false
    subnetIds: [
      subnetId
    ]
    allowedIpRanges: []
    containers: []
    queues: []
    fileShares: []
  }
}

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: keyVaultName
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Disabled'
    networkAcls: {
      defaultAction: 'Deny'
      bypass: 'AzureServices'
    }
  }
}

resource workspace 'Microsoft.MachineLearningServices/workspaces@2024-10-01' = {
  // checkov:skip=CKV_AZURE_243:The optional workspace is used from Azure ML studio and the pipeline over its public endpoint with Entra ID; a private endpoint needs private DNS zones this deployment does not run. Its key vault and storage are closed to the public.
  name: workspaceName
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  sku: {
    name: 'Basic'
    tier: 'Basic'
  }
  properties: {
    friendlyName: 'ForecastOps'
    storageAccount: resourceId('Microsoft.Storage/storageAccounts', storage.outputs.name)
    keyVault: keyVault.id
    applicationInsights: applicationInsightsId
    systemDatastoresAuthMode: 'identity'
    v1LegacyMode: false
    publicNetworkAccess: 'Enabled'
  }
}

output workspaceName string = workspace.name
