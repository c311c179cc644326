// Optional Azure ML workspace: the model registry of record and the engine of bulk re-selection
// (README "Azure ML"), with the key vault and storage account a workspace requires and a CPU compute
// cluster that scales to zero. Created only when enableMachineLearning is true.
//
// Network: the workspace is closed to the public by default (publicNetworkAccess 'Disabled') and
// reached through a private endpoint in the app's VNet, so the function app (VNet-integrated, all
// traffic routed through the VNet) registers models and submits jobs privately. Jobs run in the
// workspace's managed network, which reaches the data account through a private endpoint.
param workspaceName string
param keyVaultName string
param storageAccountName string
param applicationInsightsId string

@description('Subnet of the function app (admitted through the firewall of the workspace storage).')
param subnetId string

@description('Subnet for private endpoints (the workspace private endpoint when public access is disabled).')
param privateEndpointSubnetId string

@description('Virtual network linked to the private DNS zones of the workspace.')
param virtualNetworkId string

@description('Resource id of the data storage account that jobs read curated series from and write models to.')
param dataStorageAccountId string

param location string
param tags object

@allowed([
  'Disabled'
  'Enabled'
])
@description('Disabled (default): the workspace answers only through its private endpoint. Enabled: also over the internet, with Entra ID (needed by Microsoft-hosted pipeline agents).')
param publicNetworkAccess string = 'Disabled'

@description('Purge protection of the key vault. Once on it cannot be turned off, and the vault name stays taken until the soft-delete retention ends.')
param keyVaultPurgeProtection bool = true

@description('Name of the compute cluster of the bulk retraining job.')
param computeClusterName string = 'cpu-cluster'

@description('VM size of the compute cluster nodes.')
param computeVmSize string = 'Standard_D4s_v3'

@minValue(1)
@maxValue(100)
@description('Most nodes the cluster scales out to (it scales back to zero when idle).')
param computeMaxNodes int = 4

var privateWorkspace = publicNetworkAccess == 'Disabled'

// Private DNS zones of an Azure ML workspace private endpoint (Azure public cloud).
var privateDnsZoneNames = [
  'privatelink.api.azureml.ms'
  'privatelink.notebooks.azure.net'
]

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
  // checkov:skip=CKV_AZURE_110:Purge protection is on unless keyVaultPurgeProtection is false (a disposable environment whose vault name must be freed by azd down --purge); checkov cannot evaluate that conditional.
  // checkov:skip=CKV_AZURE_42:The vault is recoverable: soft delete is always on for 90 days, and purge protection is on unless keyVaultPurgeProtection is false; checkov cannot evaluate that conditional.
  // checkov:skip=CKV_AZURE_189:The vault firewall denies by default and admits trusted Azure services, which is how the workspace reaches it; with public access disabled and no private endpoint the workspace could not be created.
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
    // The API refuses an explicit false: purge protection is either on or absent.
    enablePurgeProtection: keyVaultPurgeProtection ? true : null
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Deny'
      bypass: 'AzureServices'
    }
  }
}

resource workspace 'Microsoft.MachineLearningServices/workspaces@2024-10-01' = {
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
    publicNetworkAccess: publicNetworkAccess
    managedNetwork: {
      isolationMode: 'AllowInternetOutbound'
      outboundRules: {
        'forecastops-data-blob': {
          type: 'PrivateEndpoint'
          category: 'UserDefined'
          destination: {
            serviceResourceId: dataStorageAccountId
            subresourceTarget: 'blob'
            sparkEnabled: false
          }
        }
      }
    }
  }
}

// The bulk retraining cluster: no nodes (and no cost) until a job runs, back to zero when idle.
resource computeCluster 'Microsoft.MachineLearningServices/workspaces/computes@2024-10-01' = {
  parent: workspace
  name: computeClusterName
  location: location
  tags: tags
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    computeType: 'AmlCompute'
    description: 'ForecastOps bulk re-selection (one partition per series)'
    disableLocalAuth: true
    properties: {
      osType: 'Linux'
      vmSize: computeVmSize
      vmPriority: 'Dedicated'
      enableNodePublicIp: false
      remoteLoginPortPublicAccess: 'Disabled'
      scaleSettings: {
        minNodeCount: 0
        maxNodeCount: computeMaxNodes
        nodeIdleTimeBeforeScaleDown: 'PT5M'
      }
    }
  }
}

resource privateDnsZones 'Microsoft.Network/privateDnsZones@2020-06-01' = [for zone in privateDnsZoneNames: if (privateWorkspace) {
  name: zone
  location: 'global'
  tags: tags
}]

resource privateDnsLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2020-06-01' = [for (zone, i) in privateDnsZoneNames: if (privateWorkspace) {
  parent: privateDnsZones[i]
  name: 'forecastops'
  location: 'global'
  tags: tags
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: virtualNetworkId
    }
  }
}]

resource privateEndpoint 'Microsoft.Network/privateEndpoints@2024-05-01' = if (privateWorkspace) {
  name: '${workspaceName}-pe'
  location: location
  tags: tags
  properties: {
    subnet: {
      id: privateEndpointSubnetId
    }
    privateLinkServiceConnections: [
      {
        name: 'amlworkspace'
        properties: {
          privateLinkServiceId: workspace.id
          groupIds: [
            'amlworkspace'
          ]
        }
      }
    ]
  }
}

resource privateDnsZoneGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = if (privateWorkspace) {
  parent: privateEndpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [for (zone, i) in privateDnsZoneNames: {
      name: replace(zone, '.', '-')
      properties: {
        privateDnsZoneId: privateDnsZones[i].id
      }
    }]
  }
}

output workspaceName string = workspace.name
output storageAccountName string = storage.outputs.name
output computeClusterName string = computeCluster.name
output workspacePrincipalId string = workspace.identity.principalId
output computePrincipalId string = computeCluster.identity.principalId
