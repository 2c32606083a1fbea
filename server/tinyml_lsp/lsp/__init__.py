"""The language-server face: pygls wiring over the core's tasks."""
