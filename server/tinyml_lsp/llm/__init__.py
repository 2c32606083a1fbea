"""The LLM: an OpenAI-compatible client (`client`, `config`, `cache`, `usage`), prompts with the
measured facts (`prompts`, `firmware`), answers read and edits kept inside the workspace
(`answers`, `edits`), the validate-and-repair loop (`loop`), and its tasks: `customize`,
`fix_build`, `adapt_quantize`, `prepare_data`. Nothing here runs without an endpoint."""
