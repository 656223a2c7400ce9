"""The coordinator: plan a round (train, compress, screen, pick), enqueue it, wait, repeat.
Also the cheap-judge pre-screen (multi-fidelity) and ``PoolSampler`` for plain ``study.optimize``.
"""
