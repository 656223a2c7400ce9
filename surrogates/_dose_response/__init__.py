"""Dose-response surrogates: the Hill-biased model, its network and objectives, curve validation,
the variant encoding, and the free-form curve baselines it is compared with.
"""
