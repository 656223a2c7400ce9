"""Gaussian-process surrogates of molecules: ``MoleculeGP`` (Tanimoto + descriptor kernel) and
the cached RDKit 2D descriptors it reads.
"""
