"""The contract suite: `pytest contract_tests` checks the mock or the live API against schemas/."""
