"""Retrieval and answer evaluation against reference questions, with baselines measured in the same run."""
