"""The mian TFX pipeline: its definition, its module file and its runners (local, Kubeflow V2)."""
