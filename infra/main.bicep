// ForecastOps infrastructure (azd layout): one resource group holding the data storage account,
// the Elastic Premium function app with its `staging` slot, monitoring and alerts, and an optional
// Azure ML workspace. Deployed at subscription scope by `azd provision` or by the Infra stage of
// azure-pipelines.yml (parameters resolved from main.parameters.json by scripts/resolve_parameters.py).
targetScope = 'subscription'

@minLength(1)
@maxLength(20)
@description('Name of the environment (e.g. dev, prod); part of the resource group name and of the naming token.')
param environmentName string

@minLength(1)
@description('Azure region of every resource.')
param location string

@description('Object id of a user or group that may read and upload data and read monitoring (optional).')
param principalId string = ''

@allowed([
  'User'
  'Group'
  'ServicePrincipal'
])
@description('Kind of principal that principalId names.')
param principalType string = 'User'

@description('E-mail address that receives the alerts (optional; without it the action group has no receiver).')
param alertEmail string = ''

@description('Comma-separated public IPv4 addresses or CIDR ranges let through the data storage firewall (uploads from outside Azure).')
param allowedIpRanges string = ''

@allowed([
  'EP1'
  'EP2'
  'EP3'
])
@description('Elastic Premium size: the cheapest Functions plan that has deployment slots on Linux.')
param planSku string = 'EP1'

@minValue(1)
@maxValue(100)
@description('Most instances the plan may scale out to.')
param maximumElasticWorkerCount int = 10

@minValue(1)
@maxValue(20)
@description('Always-ready instances of the production slot (Elastic Premium bills at least one).')
param minimumElasticInstanceCount int = 1

@description('NCRONTAB schedule of the drift and decay monitor (app setting DRIFT_SCHEDULE).')
param driftSchedule string = '0 30 2 * * *'

@description('Also create an Azure ML workspace (model registry and bulk retraining) with its key vault, storage and compute cluster.')
param enableMachineLearning bool = false

@allowed([
  'Disabled'
  'Enabled'
])
@description('Public network access of the Azure ML workspace: Disabled (private endpoint only) unless clients outside the VNet, such as Microsoft-hosted pipeline agents, must reach it.')
param machineLearningPublicNetworkAccess string = 'Disabled'

@description('Purge protection of the Azure ML key vault (on by default; `azd down --purge` cannot free the name while it is on).')
param machineLearningKeyVaultPurgeProtection bool = true

@minValue(1)
@maxValue(100)
@description('Most nodes of the Azure ML compute cluster (it scales to zero when idle).')
param machineLearningMaxNodes int = 4

@minValue(1)
@maxValue(146000)
@description('Days every blob version in the models container stays immutable (version-level WORM).')
param modelRetentionDays int = 30

// Read from the running app before each deployment by scripts/content_shares.py (empty the first
// time): each slot keeps the content share it has, whatever swaps happened since the last deployment.
@description('Current WEBSITE_CONTENTSHARE of the production slot; empty on the first deployment.')
param productionContentShare string = ''

@description('Current WEBSITE_CONTENTSHARE of the staging slot; empty on the first deployment.')
param stagingContentShare string = ''

var abbrs = loadJsonContent('./abbreviations.json')
// The token keeps names unique per subscription, environment and region. The function app name
// stays well under 32 characters so that production and `staging` get distinct host ids.
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
  application: 'forecastops'
}
var functionAppName = '${abbrs.webSitesFunctions}${resourceToken}'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: '${abbrs.resourcesResourceGroups}forecastops-${environmentName}'
  location: location
  tags: tags
}

module network 'app/network.bicep' = {
  name: 'network'
  scope: rg
  params: {
    name: '${abbrs.networkVirtualNetworks}${resourceToken}'
    subnetName: '${abbrs.networkVirtualNetworksSubnets}functions'
    location: location
    tags: tags
  }
}

// Data account: every container and queue of README "Flow and storage". Identity access only.
module dataStorage 'app/storage.bicep' = {
  name: 'data-storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}data${resourceToken}'
    location: location
    tags: tags
    allowSharedKeyAccess: false
    subnetIds: [
      network.outputs.subnetId
    ]
    allowedIpRanges: empty(allowedIpRanges) ? [] : split(replace(allowedIpRanges, ' ', ''), ',')
    containers: [
      'sales-incoming'
      'sales-archive'
      'sales-quarantine'
      'sales-curated'
      'models'
      'monitoring'
    ]
    queues: [
      'retrain-requests'
      'retrain-requests-poison'
      'registry-outbox'
      'registry-outbox-poison'
      'monitor-requests'
      'monitor-requests-poison'
    ]
    fileShares: []
    // Model versions are write-once; every version of every blob here is kept read-only for
    // modelRetentionDays, while the champion pointer can still be rewritten (a new version each time).
    versionImmutableContainers: [
      'models'
    ]
    immutabilityDays: modelRetentionDays
  }
}

// Content account: the Azure Files shares that Elastic Premium mounts as the app's content (one per slot).
// Azure Files content shares are reached with an account key only, so this account is kept apart
// from the data account, which allows no key at all.
module contentStorage 'app/storage.bicep' = {
  name: 'content-storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}code${resourceToken}'
    location: location
    tags: tags
    allowSharedKeyAccess: true
    subnetIds: [
      network.outputs.subnetId
    ]
    allowedIpRanges: []
    containers: []
    queues: []
    fileShares: [
      functionAppName
      '${functionAppName}-staging'
    ]
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    actionGroupName: '${abbrs.insightsActionGroups}${resourceToken}'
    alertNamePrefix: '${abbrs.insightsScheduledQueryRules}${resourceToken}'
    alertEmail: alertEmail
    location: location
    tags: tags
  }
}

module machineLearning 'app/ml.bicep' = if (enableMachineLearning) {
  name: 'machine-learning'
  scope: rg
  params: {
    workspaceName: '${abbrs.machineLearningServicesWorkspaces}${resourceToken}'
    keyVaultName: '${abbrs.keyVaultVaults}${resourceToken}'
    storageAccountName: '${abbrs.storageStorageAccounts}ml${resourceToken}'
    applicationInsightsId: monitoring.outputs.applicationInsightsId
    subnetId: network.outputs.subnetId
    privateEndpointSubnetId: network.outputs.privateEndpointSubnetId
    virtualNetworkId: network.outputs.virtualNetworkId
    dataStorageAccountId: dataStorage.outputs.id
    publicNetworkAccess: machineLearningPublicNetworkAccess
    keyVaultPurgeProtection: machineLearningKeyVaultPurgeProtection
    computeMaxNodes: machineLearningMaxNodes
    location: location
    tags: tags
  }
}

module functionApp 'app/function.bicep' = {
  name: 'function-app'
  scope: rg
  params: {
    name: functionAppName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    planSku: planSku
    maximumElasticWorkerCount: maximumElasticWorkerCount
    minimumElasticInstanceCount: minimumElasticInstanceCount
    location: location
    tags: tags
    subnetId: network.outputs.subnetId
    dataStorageAccountName: dataStorage.outputs.name
    contentStorageAccountName: contentStorage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    driftSchedule: driftSchedule
    machineLearningWorkspaceName: enableMachineLearning ? machineLearning.outputs.workspaceName : ''
    productionContentShare: productionContentShare
    stagingContentShare: stagingContentShare
  }
}

module rbac 'app/rbac.bicep' = {
  name: 'role-assignments'
  scope: rg
  params: {
    dataStorageAccountName: dataStorage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    appPrincipalIds: [
      functionApp.outputs.principalId
      functionApp.outputs.stagingPrincipalId
    ]
    userPrincipalId: principalId
    userPrincipalType: principalType
    machineLearningWorkspaceName: enableMachineLearning ? machineLearning.outputs.workspaceName : ''
    machineLearningStorageAccountName: enableMachineLearning ? machineLearning.outputs.storageAccountName : ''
    machineLearningPrincipalIds: enableMachineLearning ? [
      machineLearning.outputs.workspacePrincipalId
      machineLearning.outputs.computePrincipalId
    ] : []
  }
}

// Event Grid system topic on the data account. The subscription that delivers BlobCreated events to
// the ingest function is created after the code is deployed (scripts/eventgrid_subscription.sh):
// its webhook URL carries the blobs_extension system key, which exists only once the host has started.
module eventGrid 'app/eventgrid.bicep' = {
  name: 'event-grid'
  scope: rg
  params: {
    name: '${abbrs.eventGridSystemTopics}${resourceToken}'
    storageAccountName: dataStorage.outputs.name
    location: location
    tags: tags
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_URL string = functionApp.outputs.url
output AZURE_FUNCTION_STAGING_URL string = functionApp.outputs.stagingUrl
output AZURE_STORAGE_ACCOUNT_NAME string = dataStorage.outputs.name
output AZURE_EVENTGRID_SYSTEM_TOPIC string = eventGrid.outputs.name
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.applicationInsightsName
output AZURE_ML_WORKSPACE_NAME string = enableMachineLearning ? machineLearning.outputs.workspaceName : ''
output AZURE_ML_COMPUTE_CLUSTER string = enableMachineLearning ? machineLearning.outputs.computeClusterName : ''
// The data roles of the app's identities, which the Infra stage waits for (scripts/wait_for_roles.py).
output AZURE_APP_ROLE_ASSIGNMENTS array = rbac.outputs.appAssignments
