"""`tinyml data`: the lifecycle's data stage. `summary` and `prepare` without a purpose are
deterministic (no LLM, ever); `prepare PATH "purpose"` asks the LLM for a preprocessing script
that runs only after `--apply`, and whose outputs are checked.
"""

from __future__ import annotations

import argparse

from tinyml_lsp.cli.context import emit, run
from tinyml_lsp.cli.llm_commands import (
    Command,
    examples,
    finish,
    llm_config,
    llm_epilog,
    llm_options,
)


def add_parsers(command: Command, common: argparse.ArgumentParser) -> None:
    from tinyml_lsp.model.prepare import DEFAULT_SPLIT

    llm = llm_epilog()
    p = command("data", "look at a dataset, and prepare it for training and quantization",
                examples("tinyml data summary fruit.csv",
                          "tinyml data prepare fruit.csv --normalize --split 0.2",
                          'tinyml data prepare images/ "grayscale 32x32, split 20%" --apply'))
    data = p.add_subparsers(dest="data_command", required=True, metavar="ACTION")

    s = data.add_parser("summary", help="columns, types, ranges, missing values, duplicates, "
                        "class balance, ordering, image sizes (no LLM)",
                        parents=[common], formatter_class=p.formatter_class,
                        description="A dataset's facts: for a CSV its columns and types, "
                        "ranges, missing values, duplicate rows, class balance and whether the "
                        "rows are sorted by class; for an image folder the classes, sizes and "
                        "modes; for .npy/.npz the arrays.")
    s.add_argument("path", help="a CSV, an image folder (one subfolder per class) or .npy/.npz")
    s.add_argument("--label-column", help="the CSV column holding the labels")
    s.set_defaults(func=cmd_data_summary)

    s = data.add_parser("prepare", help="normalise, split and write .npz files plus a "
                        "representative sample; with a purpose, an LLM writes the script",
                        parents=[common], formatter_class=p.formatter_class,
                        description="Without a purpose (no LLM): read the data, optionally "
                        "normalise it (statistics of the training split only), split it by "
                        "class, and write <name>_train.npz, <name>_val.npz, "
                        "<name>_representative.npz and <name>_prepare.json. With a purpose, an "
                        "LLM writes a preprocessing script, shown as a new file; with --apply "
                        "it is written, run (in a subprocess, with a timeout) and its outputs "
                        "checked." + llm)
    s.add_argument("path", help="a CSV, an image folder or .npy/.npz")
    s.add_argument("purpose", nargs="?", help="what the data is for, in plain language (LLM)")
    s.add_argument("--normalize", action="store_true",
                   help="scale each feature to zero mean and unit variance")
    s.add_argument("--split", type=float, default=DEFAULT_SPLIT,
                   help="fraction of each class kept for validation")
    s.add_argument("--label-column", help="the CSV column holding the labels")
    s.add_argument("--seed", type=int, default=0, help="seed of the split")
    s.add_argument("--out", help="output folder (default: beside the data)")
    llm_options(s, "with a purpose: write the script, run it and check its outputs")
    s.set_defaults(func=cmd_data_prepare)


def cmd_data_summary(args: argparse.Namespace) -> int:
    from tinyml_lsp.model.data_summary import render_summary, summarize

    emit(args, summarize(args.path, label_column=args.label_column), render_summary)
    return 0


def cmd_data_prepare(args: argparse.Namespace) -> int:
    if args.purpose:
        from tinyml_lsp.llm.prepare_data import prepare_with_llm, render_prepared

        config = llm_config()
        result = run(args, lambda ctx: prepare_with_llm(
            args.path, args.purpose, ctx, config=config, cache=not args.no_cache,
            apply=args.apply, out=args.out), lambda r: render_prepared(
                r, show_candidate=args.show_candidate))
        return finish(args, result)
    from tinyml_lsp.model.prepare import prepare_dataset, render_prepare

    run(args, lambda ctx: prepare_dataset(
        args.path, ctx, normalize=args.normalize, split=args.split,
        label_column=args.label_column, seed=args.seed, out=args.out), render_prepare)
    return 0
