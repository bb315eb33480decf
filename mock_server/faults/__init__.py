"""Fault scenarios: the catalogue, how requests get them, and the contract edges."""
