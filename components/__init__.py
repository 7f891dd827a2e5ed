"""Custom TFX components of mian."""
