"""The REST settings update takes every workspace setting: a setting added to the services'
`WorkspaceSettings` but not to the request schema could be read over HTTP but never changed."""

from mlyard.server.schemas.access import SettingsUpdate
from mlyard.services.workspaces.settings import WorkspaceSettings


def test_the_settings_update_request_names_every_workspace_setting() -> None:
    assert set(SettingsUpdate.model_fields) == set(WorkspaceSettings.model_fields)
