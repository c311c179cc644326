"""Which Azure ML workspace to talk to, and the MLClient for it (constructed offline; calls need credentials)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.errors import ConfigurationError
from shared.settings import Settings

NO_CREDENTIALS = (
    "no Azure credentials for the Azure ML workspace: sign in with `az login`, or set AZURE_CLIENT_ID, "
    "AZURE_TENANT_ID and AZURE_CLIENT_SECRET, or run where a managed identity has the workspace's roles"
)


@dataclass(frozen=True)
class Workspace:
    subscription_id: str
    resource_group: str
    name: str

    @classmethod
    def resolve(
        cls,
        settings: Settings,
        subscription_id: str | None = None,
        resource_group: str | None = None,
        name: str | None = None,
    ) -> Workspace:
        """The workspace named by the arguments, each falling back to its AZURE_ML_* app setting."""
        values = {
            "--subscription (AZURE_ML_SUBSCRIPTION_ID)": subscription_id or settings.azure_ml_subscription_id,
            "--resource-group (AZURE_ML_RESOURCE_GROUP)": resource_group or settings.azure_ml_resource_group,
            "--workspace (AZURE_ML_WORKSPACE_NAME)": name or settings.azure_ml_workspace_name,
        }
        missing = [option for option, value in values.items() if not value]
        if missing:
            raise ConfigurationError(f"Azure ML workspace not configured: set {', '.join(missing)}")
        return cls(*values.values())

    @classmethod
    def from_settings(cls, settings: Settings) -> Workspace:
        return cls.resolve(settings)


MANAGEMENT_SCOPE = "https://management.azure.com/.default"


def signed_in_credential():
    """DefaultAzureCredential after one token request, so missing credentials fail here with a clear message."""
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import DefaultAzureCredential

    credential = DefaultAzureCredential()
    try:
        credential.get_token(MANAGEMENT_SCOPE)
    except ClientAuthenticationError as exc:
        raise ConfigurationError(f"{NO_CREDENTIALS} ({str(exc).splitlines()[0]})") from exc
    return credential


def ml_client(workspace: Workspace, credential=None):
    """An MLClient for the workspace; building it sends nothing (the first operation asks for a token)."""
    from azure.ai.ml import MLClient

    if credential is None:
        from azure.identity import DefaultAzureCredential

        credential = DefaultAzureCredential()
    return MLClient(credential, workspace.subscription_id, workspace.resource_group, workspace.name)
