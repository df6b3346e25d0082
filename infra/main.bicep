// NAS Transfer Bot on Azure: App Service (Linux), Azure Database for PostgreSQL Flexible Server,
// Key Vault for secrets (App Service Key Vault references), a user-assigned managed identity
// (the bot's identity for the Bot Connector *and* app-only Microsoft Graph), and the Azure Bot
// with its Microsoft Teams channel.
//
// Not compiled here: there is no Bicep compiler on the build machine (it is a .NET binary, not an
// npm package). Check with `az bicep build --file infra/main.bicep` before the first deployment.
//
// Resource types and API versions, from the Azure template reference (learn.microsoft.com/azure/templates):
//   Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31
//   Microsoft.KeyVault/vaults@2023-07-01, vaults/secrets@2023-07-01
//   Microsoft.Authorization/roleAssignments@2022-04-01
//   Microsoft.DBforPostgreSQL/flexibleServers@2022-12-01 (+ databases, firewallRules)
//   Microsoft.Web/serverfarms@2023-12-01, Microsoft.Web/sites@2023-12-01
//   Microsoft.BotService/botServices@2022-09-15 (msaAppType UserAssignedMSI | SingleTenant,
//   msaAppMSIResourceId, msaAppTenantId) and botServices/channels@2022-09-15 (MsTeamsChannel)

targetScope = 'resourceGroup'

@description('Short name used to derive resource names, e.g. nastransfer.')
@minLength(3)
@maxLength(16)
param baseName string

param location string = resourceGroup().location

@description('UserAssignedMSI (recommended: no bot password to rotate) or SingleTenant (an app registration with a client secret).')
@allowed(['UserAssignedMSI', 'SingleTenant'])
param botAppType string = 'UserAssignedMSI'

@description('SingleTenant only: the app registration\'s client id (MicrosoftAppId).')
param botAppId string = ''

@description('SingleTenant only: the app registration\'s client secret. Stored in Key Vault, never in app settings.')
@secure()
param botAppPassword string = ''

@description('Entra tenant the organisation\'s Teams runs in; activities from any other tenant are refused.')
param tenantId string = subscription().tenantId

@description('Directory group ids (Entra object ids): Primary/Local Administrators who may request, and NAS Operations.')
param requesterGroupId string
param opsGroupId string

@description('Teams channel id of the ops channel (19:...@thread.tacv2). Empty on first deployment; set after installing the app in the ops team (docs/deploy.md).')
param opsChannelId string = ''

@description('PostgreSQL administrator login and password. The password goes to Key Vault inside the connection string.')
param postgresAdminLogin string = 'nasadmin'
@secure()
param postgresAdminPassword string

@description('A container image (e.g. myregistry.azurecr.io/nas-transfer-bot:1.0.0) built from the Dockerfile; empty = Node 24 code deployment (infra/stage.sh, m365agents.yml).')
param containerImage string = ''

param appServiceSku string = 'B1'

var names = {
  identity: '${baseName}-id'
  vault: take('${baseName}-kv-${uniqueString(resourceGroup().id)}', 24)
  postgres: '${baseName}-pg-${uniqueString(resourceGroup().id)}'
  plan: '${baseName}-plan'
  site: '${baseName}-${uniqueString(resourceGroup().id)}'
  bot: '${baseName}-bot'
}
var useManagedIdentity = botAppType == 'UserAssignedMSI'
// Built-in role "Key Vault Secrets User" (read secret values), learn.microsoft.com/azure/role-based-access-control/built-in-roles.
var keyVaultSecretsUserRoleId = '4633458b-17de-408a-b874-0445c86b69e6'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: names.identity
  location: location
}

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: names.vault
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    enablePurgeProtection: true
    softDeleteRetentionInDays: 90
  }
}

resource vaultSecretsUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identity.id, keyVaultSecretsUserRoleId)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUserRoleId)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource postgres 'Microsoft.DBforPostgreSQL/flexibleServers@2022-12-01' = {
  name: names.postgres
  location: location
  sku: { name: 'Standard_B1ms', tier: 'Burstable' }
  properties: {
    version: '16'
    administratorLogin: postgresAdminLogin
    administratorLoginPassword: postgresAdminPassword
    storage: { storageSizeGB: 32 }
    backup: { backupRetentionDays: 14, geoRedundantBackup: 'Disabled' }
    highAvailability: { mode: 'Disabled' }
  }
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2022-12-01' = {
  parent: postgres
  name: 'nas_transfer'
  properties: { charset: 'UTF8', collation: 'en_US.utf8' }
}

// 0.0.0.0–0.0.0.0 is Azure's "allow Azure services" rule. For production networking, prefer VNet
// integration with a private endpoint and delete this rule (docs/deploy.md).
resource allowAzureServices 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2022-12-01' = {
  parent: postgres
  name: 'AllowAzureServices'
  properties: { startIpAddress: '0.0.0.0', endIpAddress: '0.0.0.0' }
}

resource databaseUrlSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'database-url'
  properties: {
    value: 'postgres://${postgresAdminLogin}:${uriComponent(postgresAdminPassword)}@${postgres.properties.fullyQualifiedDomainName}:5432/${database.name}?sslmode=require'
  }
}

resource botPasswordSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!useManagedIdentity) {
  parent: vault
  name: 'bot-app-password'
  properties: { value: botAppPassword }
}

resource plan 'Microsoft.Web/serverfarms@2023-12-01' = {
  name: names.plan
  location: location
  kind: 'linux'
  sku: { name: appServiceSku }
  properties: { reserved: true }
}

// App Service resolves @Microsoft.KeyVault(...) app settings with keyVaultReferenceIdentity
// (learn.microsoft.com/azure/app-service/app-service-key-vault-references).
// A user-defined function (Bicep 0.26+) cannot read resources, so the vault name is passed in.
func keyVaultReference(vaultName string, secretName string) string => '@Microsoft.KeyVault(VaultName=${vaultName};SecretName=${secretName})'

resource site 'Microsoft.Web/sites@2023-12-01' = {
  name: names.site
  location: location
  kind: empty(containerImage) ? 'app,linux' : 'app,linux,container'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identity.id}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identity.id
    siteConfig: {
      linuxFxVersion: empty(containerImage) ? 'NODE|24-lts' : 'DOCKER|${containerImage}'
      appCommandLine: empty(containerImage) ? 'node dist/index.js' : ''
      alwaysOn: true
      ftpsState: 'Disabled'
      minTlsVersion: '1.2'
      http20Enabled: true
      healthCheckPath: '/readyz'
      appSettings: [
        { name: 'APP_ENV', value: 'production' }
        // V8's heap bounded, as in the Dockerfile (issue 23: ~240 MiB resident per instance under the load bench, not 430-590).
        { name: 'NODE_OPTIONS', value: '--max-semi-space-size=16 --max-old-space-size=256' }
        { name: 'HOST', value: '0.0.0.0' }
        { name: 'PORT', value: '8080' }
        { name: 'WEBSITES_PORT', value: '8080' }
        { name: 'MicrosoftAppType', value: botAppType }
        { name: 'MicrosoftAppId', value: useManagedIdentity ? identity.properties.clientId : botAppId }
        { name: 'MicrosoftAppPassword', value: useManagedIdentity ? '' : keyVaultReference(vault.name, 'bot-app-password') }
        { name: 'MicrosoftAppTenantId', value: tenantId }
        { name: 'TENANT_ID', value: tenantId }
        { name: 'DATABASE_URL', value: keyVaultReference(vault.name, 'database-url') }
        { name: 'GRAPH_BASE_URL', value: 'https://graph.microsoft.com' }
        // The same user-assigned identity reads the directory; its Graph app roles are granted once (docs/deploy.md).
        { name: 'GRAPH_AUTH', value: 'managed-identity' }
        { name: 'GRAPH_MANAGED_IDENTITY_CLIENT_ID', value: identity.properties.clientId }
        { name: 'ODS_BASE_URL', value: 'https://directory.spineservices.nhs.uk/ORD/2-0-0' }
        { name: 'DSPT_REGISTER_CSV', value: '/home/data/dspt-register.csv' }
        { name: 'NAS_SITES_CSV', value: '/home/data/nas-sites.csv' }
        { name: 'REQUESTER_GROUP_ID', value: requesterGroupId }
        { name: 'OPS_GROUP_ID', value: opsGroupId }
        { name: 'OPS_CHANNEL_ID', value: opsChannelId }
        { name: 'LOG_LEVEL', value: 'info' }
        { name: 'WEBSITES_ENABLE_APP_SERVICE_STORAGE', value: 'true' }
      ]
    }
  }
  dependsOn: [vaultSecretsUser]
}

resource bot 'Microsoft.BotService/botServices@2022-09-15' = {
  name: names.bot
  location: 'global'
  kind: 'azurebot'
  sku: { name: 'S1' }
  properties: {
    displayName: 'NAS Transfer'
    endpoint: 'https://${site.properties.defaultHostName}/api/messages'
    msaAppType: botAppType
    msaAppId: useManagedIdentity ? identity.properties.clientId : botAppId
    msaAppTenantId: tenantId
    msaAppMSIResourceId: useManagedIdentity ? identity.id : null
  }
}

resource teamsChannel 'Microsoft.BotService/botServices/channels@2022-09-15' = {
  parent: bot
  name: 'MsTeamsChannel'
  location: 'global'
  properties: {
    channelName: 'MsTeamsChannel'
    properties: { isEnabled: true }
  }
}

// Upper-case names: the Agents Toolkit's arm/deploy writes outputs to env/.env.<name> under these names.
output BOT_ID string = useManagedIdentity ? identity.properties.clientId : botAppId
output BOT_DOMAIN string = site.properties.defaultHostName
output BOT_AZURE_APP_SERVICE_RESOURCE_ID string = site.id
output MANAGED_IDENTITY_PRINCIPAL_ID string = identity.properties.principalId
output KEY_VAULT_NAME string = vault.name
