"""Local stack: Azurite and a runner that serves the real function_app without Core Tools."""
