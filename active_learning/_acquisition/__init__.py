"""Acquisition: posterior (``Prediction``) → scores, and scores → a batch or an initial design.
Sees only means and spreads, never a model; the registry ``ACQUISITIONS`` feeds the config and CLI.
"""
