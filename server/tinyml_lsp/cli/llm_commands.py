"""The LLM's commands — `customize`, `fix`, `adapt` — their arguments and their wiring.

Each prints a diff and writes nothing unless `--apply`, and ends with a line of what the LLM
cost. With no endpoint configured it says so and how to set one up.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from tinyml_lsp.cli.context import run
from tinyml_lsp.errors import TinymlError

Command = Callable[..., argparse.ArgumentParser]


def llm_options(p: argparse.ArgumentParser, apply_help: str) -> None:
    p.add_argument("--apply", action="store_true", help=apply_help)
    p.add_argument("--no-cache", action="store_true",
                   help="ask the endpoint even when the same request was answered before")
    p.add_argument("--show-candidate", action="store_true",
                   help="when no candidate passed, print the last one's diff")


def llm_epilog() -> str:
    from tinyml_lsp.llm.config import HOW_TO_CONFIGURE

    return ("\n\nNeeds an OpenAI-compatible endpoint: " + HOW_TO_CONFIGURE + ". Exits with "
            "status 1 when no candidate passed.")


def add_parsers(command: Command) -> None:
    llm = llm_epilog()

    p = command("customize", "change a firmware's main source as you ask, validated on the "
                "emulated board before you see it (LLM)", examples(
                    'tinyml customize fw/src/main.c "print ALERT when the score is above 0.8"',
                    'tinyml customize fw/src/main.c "average five inferences" --apply',
                    'tinyml customize fw/src/main.c "..." --json') + llm)
    p.add_argument("file", help="src/main.c of a project `tinyml sketch` wrote")
    p.add_argument("instruction", help="what to change, in plain language")
    p.add_argument("--env", help="PlatformIO environment to validate on (default: the "
                   "project's default)")
    llm_options(p, "write the change once it passed (default: print the diff only)")
    p.set_defaults(func=cmd_customize)

    p = command("fix", "fix a firmware project's build errors, validated like customize (LLM)",
                examples("tinyml fix fw/", "tinyml fix fw/ --apply") + llm)
    p.add_argument("project", nargs="?", default=".", help="project folder")
    p.add_argument("--env", help="PlatformIO environment (default: the project's default)")
    llm_options(p, "write the fix once it passed")
    p.set_defaults(func=cmd_fix)

    p = command("adapt", "write the representative-dataset and export code into a training "
                "script the deterministic quantize cannot read (LLM)",
                examples("tinyml adapt train.py", "tinyml adapt train.py --apply") + llm)
    p.add_argument("script", help="a Python training script")
    llm_options(p, "write the change into the script")
    p.set_defaults(func=cmd_adapt)


def examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def llm_config() -> Any:
    from tinyml_lsp.llm.config import require_config

    return require_config()


def finish(args: argparse.Namespace, result: Any) -> int:
    """The exit status of an LLM task: 1, with its problem, when no candidate passed."""
    if not result.success:
        raise TinymlError(f"no candidate passed: {result.problem}", result.target,
                          hint="the report above lists every round; nothing was written")
    return 0


def render_llm(args: argparse.Namespace) -> Callable[[Any], str]:
    from tinyml_lsp.llm.loop import render_edit_result

    return lambda r: render_edit_result(r, show_candidate=args.show_candidate)


def cmd_customize(args: argparse.Namespace) -> int:
    from tinyml_lsp.llm.customize import customize

    config = llm_config()
    result = run(args, lambda ctx: customize(
        args.file, args.instruction, ctx, config=config, cache=not args.no_cache,
        apply=args.apply, env=args.env), render_llm(args))
    return finish(args, result)


def cmd_fix(args: argparse.Namespace) -> int:
    from tinyml_lsp.llm.fix_build import fix_build

    config = llm_config()
    result = run(args, lambda ctx: fix_build(args.project, ctx, config=config,
                                             cache=not args.no_cache, apply=args.apply,
                                             env=args.env), render_llm(args))
    return finish(args, result)


def cmd_adapt(args: argparse.Namespace) -> int:
    from tinyml_lsp.llm.adapt_quantize import adapt_quantize

    config = llm_config()
    result = run(args, lambda ctx: adapt_quantize(args.script, ctx, config=config,
                                                  cache=not args.no_cache, apply=args.apply),
                 render_llm(args))
    return finish(args, result)
