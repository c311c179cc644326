"""Trigger adapters: each module is a blueprint whose functions parse input and call `shared`."""
