"""Local stack: Azurite and a runner that serves the real function_app without Core Tools."""

from localrun.activity import Counters
from localrun.config import ConfigurationError, MissingSettingError
from localrun.loading import FunctionInfo, describe_functions
from localrun.runner import Runner
from shared.settings import load_local_settings

__all__ = [
    "ConfigurationError",
    "Counters",
    "FunctionInfo",
    "MissingSettingError",
    "Runner",
    "describe_functions",
    "load_local_settings",
]
