"""The shipped dataset and pipeline configs, installed as the package `mian.shipped_configs`
(pyproject.toml)."""
