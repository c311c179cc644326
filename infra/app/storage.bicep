// One storage account: HTTPS only, TLS 1.2, no anonymous blob access, firewall closed by default
// (open to the function app's subnet, to trusted Azure services and to the listed IP ranges),
// with the containers, queues and file shares it is given.
param name string
param location string
param tags object

@description('false for the data account (identity access only); true only where Azure Files needs a key.')
param allowSharedKeyAccess bool

@description('Subnets (with the Microsoft.Storage service endpoint) admitted through the firewall.')
param subnetIds array

@description('Public IPv4 addresses or CIDR ranges admitted through the firewall.')
param allowedIpRanges array

param containers array
param queues array
param fileShares array

@description('Days a deleted blob or container stays recoverable.')
param softDeleteDays int = 14

// Version-level WORM: every version of every blob in these containers is kept unmodified for
// immutabilityDays. An overwrite (the `if_match` rewrite of `{series}/champion.json`, a retrain claim)
// still succeeds: it makes a new current version and the previous one stays, read-only, until its
// retention ends; write-once model versions can then not be replaced unnoticed nor lost.
@description('Containers with version-level immutability (blob versioning is turned on for the account when any is given).')
param versionImmutableContainers array = []

@minValue(1)
@maxValue(146000)
@description('Days each blob version in versionImmutableContainers stays immutable.')
param immutabilityDays int = 30

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  // checkov:skip=CKV_AZURE_59:The firewall denies by default and admits only the app's subnet (service endpoint), trusted Azure services and listed IPs; publicNetworkAccess Disabled would close those paths and require private endpoints.
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_GZRS'
  }
  properties: {
    accessTier: 'Hot'
    supportsHttpsTrafficOnly: true
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: allowSharedKeyAccess
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    isLocalUserEnabled: false
    isSftpEnabled: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Deny'
      bypass: 'AzureServices'
      virtualNetworkRules: [for subnetId in subnetIds: {
        id: subnetId
        action: 'Allow'
      }]
      ipRules: [for ipRange in allowedIpRanges: {
        value: ipRange
        action: 'Allow'
      }]
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: {
          enabled: true
          keyType: 'Account'
        }
        file: {
          enabled: true
          keyType: 'Account'
        }
        queue: {
          enabled: true
          keyType: 'Account'
        }
        table: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    isVersioningEnabled: !empty(versionImmutableContainers)
    deleteRetentionPolicy: {
      enabled: true
      days: softDeleteDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: softDeleteDays
    }
  }
}

resource blobContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [for container in containers: {
  parent: blobService
  name: container
  properties: {
    publicAccess: 'None'
    immutableStorageWithVersioning: contains(versionImmutableContainers, container) ? {
      enabled: true
    } : null
  }
}]

// The default time-based retention of each version in a version-level immutable container. Left
// unlocked by the deployment; docs/deploy.md says when and how to lock it.
resource immutabilityPolicies 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2023-05-01' = [for container in versionImmutableContainers: {
  name: '${account.name}/default/${container}/default'
  properties: {
    immutabilityPeriodSinceCreationInDays: immutabilityDays
    allowProtectedAppendWrites: false
  }
  dependsOn: [
    blobContainers
  ]
}]

// With versioning on, every overwrite keeps the old version (the curated files and reports are
// rewritten often): previous versions are deleted once the retention of the immutable containers
// has passed, never earlier, so the lifecycle never tries to remove a version that is still locked.
resource versionLifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = if (!empty(versionImmutableContainers)) {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'expire-previous-versions'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
            }
            actions: {
              version: {
                delete: {
                  daysAfterCreationGreaterThan: immutabilityDays
                }
              }
            }
          }
        }
      ]
    }
  }
}

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2023-05-01' = {
  parent: account
  name: 'default'
}

resource storageQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2023-05-01' = [for queue in queues: {
  parent: queueService
  name: queue
}]

resource fileService 'Microsoft.Storage/storageAccounts/fileServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    shareDeleteRetentionPolicy: {
      enabled: true
      days: softDeleteDays
    }
  }
}

resource shares 'Microsoft.Storage/storageAccounts/fileServices/shares@2023-05-01' = [for share in fileShares: {
  parent: fileService
  name: share
}]

output name string = account.name
output id string = account.id
