"""Workers and where they run: the worker loop, per-candidate time-outs, and the executors
(local processes, Dask, SLURM/PBS) that start workers.
"""
