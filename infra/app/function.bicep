// The function app on a Linux Elastic Premium plan, with its `staging` slot.
//
// Elastic Premium is the plan: it has deployment slots on Linux (Flex Consumption has none and
// Linux Consumption has none), keeps pre-warmed instances (no cold start during a swap), has no
// execution time cap for retraining and supports VNet integration. It still mounts an Azure Files
// content share, reached with an account key (WEBSITE_CONTENTAZUREFILECONNECTIONSTRING): the one key
// this deployment holds, on a storage account of its own that stores no data.
//
// Slot settings: the triggers that consume work (blob, queue, timer) are disabled in `staging` by
// slot-sticky AzureWebJobs.<function>.Disabled settings, so code under test never takes uploads,
// retrain requests or monitor runs from production. HTTP functions stay enabled for the smoke test.
param name string
param planName string
param planSku string
param maximumElasticWorkerCount int
param minimumElasticInstanceCount int
param location string
param tags object
param subnetId string
param dataStorageAccountName string
param contentStorageAccountName string
param applicationInsightsName string
param driftSchedule string

@description('Name of the Azure ML workspace, or empty when there is none.')
param machineLearningWorkspaceName string

// The content share of each slot as it is now (scripts/content_shares.py reads them before every
// deployment; empty on the first one). A swap exchanges the slots' WEBSITE_CONTENTSHARE values, since
// the setting is not sticky: writing the names of the first deployment back would point production at
// the share of the previous release (docs/deploy.md "What happens on the second release").
@description('Current WEBSITE_CONTENTSHARE of the production slot; empty on the first deployment.')
param productionContentShare string = ''

@description('Current WEBSITE_CONTENTSHARE of the staging slot; empty on the first deployment.')
param stagingContentShare string = ''

@description('Functions with a blob, queue or timer trigger: disabled in `staging`, enabled in production.')
param triggerFunctions array = [
  'ingest'
  'retrain'
  'monitor'
  'registry-sync'
  'fleet_summary'
  'monitor_check'
]

var stagingSlotName = 'staging'
var healthPath = '/api/health'

resource contentStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: contentStorageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

var contentConnectionString = 'DefaultEndpointsProtocol=https;AccountName=${contentStorage.name};EndpointSuffix=${environment().suffixes.storage};AccountKey=${contentStorage.listKeys().keys[0].value}'

// Settings shared by both slots (they swap with the code).
var commonSettings = [
  {
    name: 'FUNCTIONS_EXTENSION_VERSION'
    value: '~4'
  }
  {
    name: 'FUNCTIONS_WORKER_RUNTIME'
    value: 'python'
  }
  {
    name: 'AzureWebJobsFeatureFlags'
    value: 'EnableWorkerIndexing'
  }
  // Host storage and the app's own storage access, both through the slot's managed identity.
  {
    name: 'AzureWebJobsStorage__accountName'
    value: dataStorageAccountName
  }
  {
    name: 'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING'
    value: contentConnectionString
  }
  // The content share is reached through the VNet (the content account denies public traffic);
  // the shares exist already, so the platform need not probe them at creation.
  {
    name: 'WEBSITE_SKIP_CONTENTSHARE_VALIDATION'
    value: '1'
  }
  {
    name: 'WEBSITE_RUN_FROM_PACKAGE'
    value: '1'
  }
  // The deployed zip carries its Linux wheels in .python_packages: no build on the server.
  {
    name: 'SCM_DO_BUILD_DURING_DEPLOYMENT'
    value: 'false'
  }
  {
    name: 'ENABLE_ORYX_BUILD'
    value: 'false'
  }
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: applicationInsights.properties.ConnectionString
  }
  // Telemetry is sent with the managed identity (local auth is off on Application Insights).
  {
    name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
    value: 'Authorization=AAD'
  }
  {
    name: 'WEBSITE_SWAP_WARMUP_PING_PATH'
    value: healthPath
  }
  {
    name: 'WEBSITE_SWAP_WARMUP_PING_STATUSES'
    value: '200'
  }
  {
    name: 'INCOMING_CONTAINER'
    value: 'sales-incoming'
  }
  {
    name: 'ARCHIVE_CONTAINER'
    value: 'sales-archive'
  }
  {
    name: 'QUARANTINE_CONTAINER'
    value: 'sales-quarantine'
  }
  {
    name: 'CURATED_CONTAINER'
    value: 'sales-curated'
  }
  {
    name: 'MODELS_CONTAINER'
    value: 'models'
  }
  {
    name: 'MONITORING_CONTAINER'
    value: 'monitoring'
  }
  {
    name: 'RETRAIN_QUEUE'
    value: 'retrain-requests'
  }
  {
    name: 'REGISTRY_OUTBOX_QUEUE'
    value: 'registry-outbox'
  }
  {
    name: 'MONITOR_QUEUE'
    value: 'monitor-requests'
  }
  {
    name: 'DRIFT_SCHEDULE'
    value: driftSchedule
  }
  // Where the optional Azure ML workspace lives (registry mirror, bulk job), as shared.settings reads it.
  {
    name: 'AZURE_ML_WORKSPACE_NAME'
    value: machineLearningWorkspaceName
  }
  {
    name: 'AZURE_ML_SUBSCRIPTION_ID'
    value: subscription().subscriptionId
  }
  {
    name: 'AZURE_ML_RESOURCE_GROUP'
    value: resourceGroup().name
  }
]

// Each slot keeps its own content share. WEBSITE_CONTENTSHARE is deliberately not sticky: the
// share holds the deployed package, which must travel with the slot's code when slots swap. The
// names below are those of the first deployment; afterwards each slot keeps the share it has now.
var productionContent = [
  {
    name: 'WEBSITE_CONTENTSHARE'
    value: empty(productionContentShare) ? name : productionContentShare
  }
]
var stagingContent = [
  {
    name: 'WEBSITE_CONTENTSHARE'
    value: empty(stagingContentShare) ? '${name}-${stagingSlotName}' : stagingContentShare
  }
]
var enabledInProduction = [for fn in triggerFunctions: {
  name: 'AzureWebJobs.${fn}.Disabled'
  value: 'false'
}]
var disabledInStaging = [for fn in triggerFunctions: {
  name: 'AzureWebJobs.${fn}.Disabled'
  value: 'true'
}]
var stickySettingNames = [for fn in triggerFunctions: 'AzureWebJobs.${fn}.Disabled']

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  // checkov:skip=CKV_AZURE_225:Zone redundancy bills at least three always-ready instances; one instance plus elastic scale-out fits this workload, and the data account is zone- and geo-redundant (GZRS).
  name: planName
  location: location
  tags: tags
  kind: 'elastic'
  sku: {
    tier: 'ElasticPremium'
    name: planSku
  }
  properties: {
    reserved: true
    maximumElasticWorkerCount: maximumElasticWorkerCount
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    // checkov:skip=CKV_AZURE_17:Clients are scripts and apps that present function keys, not client certificates; requiring certificates would also reject Event Grid deliveries.
    // checkov:skip=CKV_AZURE_222:The HTTP API and the Event Grid blob webhook are public endpoints by design; storage behind it is reachable only from the VNet.
    // checkov:skip=CKV_AZURE_212:Elastic Premium sets its floor with minimumElasticInstanceCount (always-ready instances) and scales out on load; numberOfWorkers, which this check reads, is the dedicated-plan setting.
    serverFarmId: plan.id
    reserved: true
    httpsOnly: true
    clientAffinityEnabled: false
    virtualNetworkSubnetId: subnetId
    vnetContentShareEnabled: true
    siteConfig: {
      linuxFxVersion: 'Python|3.11'
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      healthCheckPath: healthPath
      vnetRouteAllEnabled: true
      remoteDebuggingEnabled: false
      minimumElasticInstanceCount: minimumElasticInstanceCount
      functionAppScaleLimit: maximumElasticWorkerCount
      // The data account admits only the VNet: the scale controller cannot read queue lengths from
      // outside, so the runtime reports its own scale needs (otherwise retrain never scales out).
      functionsRuntimeScaleMonitoringEnabled: true
      appSettings: concat(commonSettings, productionContent, enabledInProduction)
    }
  }
}

resource stagingSlot 'Microsoft.Web/sites/slots@2024-04-01' = {
  parent: site
  name: stagingSlotName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    // checkov:skip=CKV_AZURE_222:The smoke test reaches the slot over its public hostname with a function key.
    // checkov:skip=CKV_AZURE_212:Same as production: the Elastic Premium floor is minimumElasticInstanceCount, not numberOfWorkers.
    serverFarmId: plan.id
    reserved: true
    httpsOnly: true
    clientAffinityEnabled: false
    virtualNetworkSubnetId: subnetId
    vnetContentShareEnabled: true
    siteConfig: {
      linuxFxVersion: 'Python|3.11'
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      healthCheckPath: healthPath
      vnetRouteAllEnabled: true
      remoteDebuggingEnabled: false
      minimumElasticInstanceCount: minimumElasticInstanceCount
      functionAppScaleLimit: maximumElasticWorkerCount
      // The data account admits only the VNet: the scale controller cannot read queue lengths from
      // outside, so the runtime reports its own scale needs (otherwise retrain never scales out).
      functionsRuntimeScaleMonitoringEnabled: true
      appSettings: concat(commonSettings, stagingContent, disabledInStaging)
    }
  }
}

// Settings that stay with their slot when slots swap.
resource slotConfigNames 'Microsoft.Web/sites/config@2024-04-01' = {
  // This config resource only lists sticky setting names; checkov reads it as the site's web config.
  // checkov:skip=CKV_AZURE_13:Not a web config; callers of the site authenticate with function keys (only /api/health is anonymous).
  // checkov:skip=CKV_AZURE_222:Not a web config; the site is public by design (HTTP API and Event Grid webhook), see the site resource.
  // checkov:skip=CKV_AZURE_63:Not a web config; requests and function executions are logged to Application Insights, not App Service file logs.
  // checkov:skip=CKV_AZURE_65:Not a web config; errors are recorded in Application Insights, not as App Service detailed error pages.
  // checkov:skip=CKV_AZURE_66:Not a web config; failed requests are traced in Application Insights and alerted on (monitoring.bicep).
  // checkov:skip=CKV_AZURE_80:Not a web config, and the app runs Python, not .NET Framework.
  // checkov:skip=CKV_AZURE_88:Not a web config; the app already uses Azure Files for its content share (WEBSITE_CONTENTAZUREFILECONNECTIONSTRING).
  parent: site
  name: 'slotConfigNames'
  properties: {
    appSettingNames: stickySettingNames
  }
}

// No FTP and no basic-auth publishing: deployments authenticate with Entra ID.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

resource stagingFtpPublishing 'Microsoft.Web/sites/slots/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: stagingSlot
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource stagingScmPublishing 'Microsoft.Web/sites/slots/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: stagingSlot
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = site.name
output url string = 'https://${site.properties.defaultHostName}'
output stagingUrl string = 'https://${stagingSlot.properties.defaultHostName}'
output principalId string = site.identity.principalId
output stagingPrincipalId string = stagingSlot.identity.principalId
