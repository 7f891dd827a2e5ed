"""Reusable Keras layers of MIAN (section 3.2 of the paper) and of the baselines it is compared with."""
