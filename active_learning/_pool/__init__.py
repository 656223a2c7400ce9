"""Candidate pools: molecules, sequences and designs, read from files or enumerated, in chunks.
Each pool hands candidates over in the form a model or simulator declares (``input_kind``).
"""
