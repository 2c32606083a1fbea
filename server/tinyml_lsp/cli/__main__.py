"""`python -m tinyml_lsp.cli` is `tinyml`."""

import sys

from tinyml_lsp.cli import main

sys.exit(main())
