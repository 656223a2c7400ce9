"""The campaign's ledger: one Optuna study as record, work queue and resume point.
Owns the storages, the study's attribute keys, every use of Optuna's internals and opening a session.
"""
