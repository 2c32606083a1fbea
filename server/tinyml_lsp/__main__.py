"""`python -m tinyml_lsp` starts the language server (same as `tinyml serve`)."""

import sys

from tinyml_lsp.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
