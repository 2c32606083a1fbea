"""The LLM: client, prompts, edits and the repair loop (later issues)."""
