"""`tinyml`: the command-line face over the core's tasks.

Each command (`commands`) runs one task of the core with a CLI job context (a progress bar and
log lines on stderr, `context`) and prints the result: rendered for people, or as JSON on stdout
with `--json`. A TinymlError becomes one line on stderr and exit status 1.
"""

from __future__ import annotations

import sys
import time

from tinyml_lsp.errors import TinymlError


def main(argv: list[str] | None = None) -> int:
    from tinyml_lsp.cli.parser import build_parser, serve_parser

    argv = sys.argv[1:] if argv is None else argv
    args = (serve_parser() if argv[:1] == ["serve"] else build_parser()).parse_args(argv)
    started = time.perf_counter()
    try:
        status: int = args.func(args)
        return status
    except TinymlError as exc:
        if args.debug:
            raise
        # what it is about (compiler errors), then one line that scripts and editors can show
        for line in exc.details:
            print(line, file=sys.stderr)
        print(f"error: {exc}" + (f" (hint: {exc.hint})" if exc.hint else ""), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `tinyml ... | head`: the reader has what it wanted
        sys.stdout = None  # nothing more to flush at exit
        return 141
    except Exception as exc:  # a bug: one line, the traceback with --debug
        if args.debug:
            raise
        print(f"error: internal error ({type(exc).__name__}: {exc}); run again with --debug "
              "and report it", file=sys.stderr)
        return 2
    finally:
        if args.debug:
            print(f"[{time.perf_counter() - started:.2f} s]", file=sys.stderr)
