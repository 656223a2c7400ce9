"""MLP-bodied surrogates: the network and its training loop, the shared featurise → MLP base,
the fingerprint and vector models, and (int8) state saving.
"""
