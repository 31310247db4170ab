"""Answers with verified citations: extractive by default, an LLM when configured."""
