"""The contract: the wire vocabulary, schemas, rules beyond them, conformance of real traffic,
observations of a target, the fidelity ledger and the profile of open choices."""
