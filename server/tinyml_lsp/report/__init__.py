"""The model report: every measured fact about a model in one value (`collect`) and as a
self-contained HTML page with charts (`page`), for a browser, the CLI and the editor alike."""
