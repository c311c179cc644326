// Virtual network whose one subnet carries the function app's regional VNet integration
// (production and `staging` slot). The Microsoft.Storage service endpoint lets both storage
// accounts deny public traffic by default and still admit the app.
param name string
param subnetName string
param location string
param tags object

@description('Address space of the virtual network.')
param addressPrefix string = '10.40.0.0/16'

@description('Integration subnet; Elastic Premium needs at least a /26, a /24 leaves room to scale out.')
param subnetPrefix string = '10.40.1.0/24'

@description('Subnet for private endpoints (the optional Azure ML workspace).')
param privateEndpointSubnetName string = 'snet-private-endpoints'

param privateEndpointSubnetPrefix string = '10.40.2.0/24'

resource nsg 'Microsoft.Network/networkSecurityGroups@2024-05-01' = {
  name: '${name}-${subnetName}-nsg'
  location: location
  tags: tags
  properties: {
    // The integration subnet only sends (VNet integration is outbound only); the private endpoint
    // subnet is reached from inside the VNet. The default rules deny inbound from the internet.
    securityRules: []
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: subnetName
        properties: {
          addressPrefix: subnetPrefix
          networkSecurityGroup: {
            id: nsg.id
          }
          serviceEndpoints: [
            {
              service: 'Microsoft.Storage'
              locations: [
                location
              ]
            }
          ]
          delegations: [
            {
              name: 'functions'
              properties: {
                serviceName: 'Microsoft.Web/serverFarms'
              }
            }
          ]
        }
      }
      {
        name: privateEndpointSubnetName
        properties: {
          addressPrefix: privateEndpointSubnetPrefix
          networkSecurityGroup: {
            id: nsg.id
          }
          privateEndpointNetworkPolicies: 'Enabled'
        }
      }
    ]
  }
}

output subnetId string = '${vnet.id}/subnets/${subnetName}'
output privateEndpointSubnetId string = '${vnet.id}/subnets/${privateEndpointSubnetName}'
output virtualNetworkId string = vnet.id
