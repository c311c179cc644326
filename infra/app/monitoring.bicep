// Log Analytics, workspace-based Application Insights, one action group and three alert rules:
// data drift, model decay (both raised by the monitor function) and failed function executions.
param logAnalyticsName string
param applicationInsightsName string
param actionGroupName string
param alertNamePrefix string
param location string
param tags object

@description('E-mail receiver of the action group; empty for none.')
param alertEmail string

@description('Days Log Analytics keeps data.')
param retentionInDays int = 30

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    retentionInDays: retentionInDays
    sku: {
      name: 'PerGB2018'
    }
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    // Only Entra-authenticated telemetry (the slots' managed identities) is accepted.
    DisableLocalAuth: true
  }
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: actionGroupName
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'forecastops'
    enabled: true
    emailReceivers: empty(alertEmail) ? [] : [
      {
        name: 'operators'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

// The monitor function logs a warning whose message starts with the event name (DriftDetected or
// ModelDecayDetected) and may also track a custom event of that name; either fires the rule.
var eventQuery = '''
union isfuzzy=true
    (customEvents | where name == "{0}" | project timestamp, detail = tostring(customDimensions)),
    (traces | where severityLevel >= 2 and message has "{0}" | project timestamp, detail = message)
'''

var modelAlerts = [
  {
    key: 'drift'
    event: 'DriftDetected'
    title: 'Data drift detected'
    description: 'The monitor found the recent sales of a series drifting from the champion\'s training data; a retrain was requested. See /api/drift?series=.'
  }
  {
    key: 'decay'
    event: 'ModelDecayDetected'
    title: 'Model decay detected'
    description: 'The champion\'s error on new actuals exceeds its backtest error beyond the threshold; a retrain was requested. See /api/drift?series=.'
  }
]

resource modelEventAlerts 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [for alert in modelAlerts: {
  name: '${alertNamePrefix}-${alert.key}'
  location: location
  tags: tags
  properties: {
    displayName: alert.title
    description: alert.description
    severity: 2
    enabled: true
    scopes: [
      applicationInsights.id
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: format(eventQuery, alert.event)
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: false
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}]

// Every function execution is an Application Insights request; success == false means the function
// raised (or an HTTP function answered 5xx). One alert per failing function name.
resource functionFailureAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${alertNamePrefix}-function-failures'
  location: location
  tags: tags
  properties: {
    displayName: 'Function executions failed'
    description: 'At least one function execution failed in the last 15 minutes; the dimension names the function.'
    severity: 1
    enabled: true
    scopes: [
      applicationInsights.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      allOf: [
        {
          query: 'requests | where success == false | summarize failures = count() by function = operation_Name'
          timeAggregation: 'Total'
          metricMeasureColumn: 'failures'
          dimensions: [
            {
              name: 'function'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

output applicationInsightsName string = applicationInsights.name
output applicationInsightsId string = applicationInsights.id
output logAnalyticsId string = logAnalytics.id
