"""The curated TFDV schemas, one folder per shipped dataset, installed as the package `mian.shipped_schemas`
(pyproject.toml)."""
