"""Campaign configs: the TOML sections as frozen dataclasses, every value checked where it enters.
Builds the parts a campaign runs with (pool, simulator, surrogate) from declared capabilities.
"""
