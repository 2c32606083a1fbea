"""`tinyml`'s arguments: every command, every option with its help and default (the core's
own defaults, imported), and examples in each command's help."""

from __future__ import annotations

import argparse
from typing import Any

from tinyml_lsp import __version__
from tinyml_lsp.cli import check_commands, commands, data_commands, llm_commands, report_command
from tinyml_lsp.deploy.boards import EMULATED_BOARD
from tinyml_lsp.model.formats import DEFAULT_PIXEL_RANGE, PIXEL_RANGE_CHOICES


class Formatter(argparse.RawDescriptionHelpFormatter):
    """Examples as written, and every option's default after its help."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if ("%(default)" not in text and action.option_strings and default is not None
                and default is not False and default != argparse.SUPPRESS):
            text += " (default: %(default)s)"
        return text


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def _weights_budget_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights-budget", type=float, metavar="RATIO",
                   help="standalone runtime: flash for speed — the weights may take up to "
                   "RATIO × the model's int8 weights, int16 copies going to the layers they "
                   "speed up most (2.1: every layer that has one; default: a few percent, "
                   "docs/firmware.md)")


def _data_options(p: argparse.ArgumentParser, data_help: str) -> None:
    p.add_argument("--data", help=data_help + ": .npy/.npz (x, optional y), a CSV (numeric "
                   "columns and a label column) or an image folder (one subfolder per class)")
    p.add_argument("--label-column", help="the CSV column holding the labels (by default a "
                   "column named label/class/target/y, else the only column that is not "
                   "numeric)")
    p.add_argument("--pixel-range", default=DEFAULT_PIXEL_RANGE, choices=PIXEL_RANGE_CHOICES,
                   help="scale image pixels to this range, as Keras' image loader does for "
                   "0-255; int8: each pixel byte is the model's int8 input, as in TFLite "
                   "Micro's example images")


def _labels_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--labels", help="the model's class names in order, comma-separated (by "
                   "default those recorded beside the model by `tinyml quantize`, else the "
                   "data's)")


Command = Any  # the add-a-command function _root returns


def _root() -> tuple[argparse.ArgumentParser, Command, argparse.ArgumentParser]:
    """The `tinyml` parser, the function that adds a command to it, and the parent parser of
    the options every command takes."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true",
                        help="print the result as JSON on stdout (progress and logs on stderr)")
    common.add_argument("--quiet", action="store_true",
                        help="no progress bar (there is none when stderr is not a terminal)")
    common.add_argument("--verbose", action="store_true",
                        help="the task's log on stderr (PlatformIO's and the compiler's output, "
                        "the converter's messages)")
    common.add_argument("--debug", action="store_true", help="show tracebacks")

    parser = argparse.ArgumentParser(
        prog="tinyml", formatter_class=Formatter,
        description="Take a machine-learning model onto a microcontroller: quantize, verify in "
        "TFLite Micro's interpreter, generate C, build, flash and monitor a board — or the "
        "emulated Cortex-M4 board, tinyml-qemu-m4.",
        epilog="Every command exits with status 1 and one line on stderr (error: PATH: "
        "problem) when something is wrong with its input. `tinyml COMMAND --help` shows "
        "examples.")
    parser.add_argument("--version", action="version", version=f"tinyml-lsp {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str, examples: str, **kw: Any) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], help=help, description=help,
                              epilog=examples, formatter_class=Formatter, **kw)

    return parser, command, common


def _serve(command: Command) -> None:
    p = command("serve", "start the language server (LSP on stdio)", _examples(
        "tinyml serve", "tinyml serve --tcp 2087   # for debugging"))
    p.add_argument("--tcp", type=int, metavar="PORT", help="listen on TCP instead of stdio")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on with --tcp")
    p.set_defaults(func=commands.cmd_serve)


def serve_parser() -> argparse.ArgumentParser:
    """`tinyml serve` alone: the editor's start needs none of the core modules the other
    commands' defaults come from (numpy among them)."""
    parser, command, _ = _root()
    _serve(command)
    return parser


def build_parser() -> argparse.ArgumentParser:
    # the defaults shown and applied are the core's own
    from tinyml_lsp.codegen import analyze, c_array
    from tinyml_lsp.codegen.standalone import validate
    from tinyml_lsp.deploy import fit, monitor, vectors
    from tinyml_lsp.model import quantize

    parser, command, common = _root()

    p = command("inspect", "print a .tflite model's card: ops, tensors, quantization, size",
                _examples("tinyml inspect model_int8.tflite",
                          "tinyml inspect model_int8.tflite --json"))
    p.add_argument("model", help="a .tflite file")
    p.set_defaults(func=commands.cmd_inspect)

    p = command("quantize", "convert a Keras model to float32 and full-integer int8 .tflite",
                _examples("tinyml quantize model.keras --data train.csv",
                          "tinyml quantize model.keras --data images/ --io float",
                          "tinyml quantize model.h5 --data x.npz --holdout 0 --out build/"))
    p.add_argument("model", help=".keras, .h5 or a SavedModel folder")
    _data_options(p, "the representative dataset")
    p.add_argument("--out", help="output folder (default: beside the model)")
    p.add_argument("--mode", default=quantize.MODES[0], choices=quantize.MODES,
                   help="int8: full-integer, for microcontrollers; dynamic and float16 are "
                   "refused for them (TFLite Micro cannot run them) unless --target host")
    p.add_argument("--io", default=quantize.IO_TYPES[0], choices=quantize.IO_TYPES,
                   help="type of the int8 model's input and output")
    p.add_argument("--target", default=quantize.TARGETS[0], choices=quantize.TARGETS,
                   help="mcu refuses what TFLite Micro cannot run")
    p.add_argument("--samples", type=int, default=quantize.DEFAULT_SAMPLES,
                   help="representative samples used for calibration")
    p.add_argument("--holdout", type=float, default=quantize.DEFAULT_HOLDOUT,
                   help="fraction of each class of labelled data kept out of calibration, to "
                   "compare the quantized model with the float one on; 0: compare on the "
                   "calibration data")
    p.add_argument("--seed", type=int, default=0, help="seed of the hold-out split")
    p.add_argument("--per-tensor-dense", action="store_true",
                   help="one scale per dense (FULLY_CONNECTED) weight tensor, not per channel: "
                   "what the pinned TensorFlow Lite Micro library computes right")
    p.set_defaults(func=commands.cmd_quantize)

    p = command("verify", "run a .tflite model in TFLite Micro's interpreter: ops, arena, "
                "accuracy", _examples(
                    "tinyml verify model_int8.tflite",
                    "tinyml verify model_int8.tflite --arena 8192",
                    "tinyml verify model_int8.tflite --data holdout.csv --reference model.keras"))
    p.add_argument("model", help="a .tflite file")
    _data_options(p, "data to measure accuracy and agreement on")
    _labels_option(p)
    p.add_argument("--reference", help="a float model to compare with (.tflite, .keras, .h5)")
    p.add_argument("--arena", type=int, help="also check the model with this arena size "
                   "(bytes), as your sketch sets it")
    p.set_defaults(func=commands.cmd_verify)

    p = command("export", "write the model as C for TFLite Micro: model_data.h / model_data.cc",
                _examples("tinyml export model_int8.tflite --out src/",
                          "tinyml export model_int8.tflite --out src/ --name g_fruit_model"))
    p.add_argument("model", help="a .tflite file")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--name", default=c_array.DEFAULT_NAME, help="C name of the array")
    p.set_defaults(func=commands.cmd_export)

    p = command("analyze", "the model layer by layer: MACs, weights, live activations, and "
                "each layer's quantization error", _examples(
                    "tinyml analyze model_int8.tflite",
                    "tinyml analyze model_int8.tflite --reference model.keras --data holdout.csv",
                    "tinyml analyze model_int8.tflite --on-board   # instructions per layer"))
    p.add_argument("model", help="a .tflite file")
    p.add_argument("--reference", help="the float model to measure each int8 layer against "
                   "(.keras, .h5, a SavedModel folder or a float .tflite); needs --data")
    _data_options(p, "data to measure the per-layer errors on")
    p.add_argument("--samples", type=int, default=analyze.DEFAULT_SAMPLES,
                   help="samples of the data to measure on (stratified by class)")
    p.add_argument("--seed", type=int, default=0, help="seed of the choice of samples")
    p.add_argument("--on-board", action="store_true",
                   help="also run a profiling build of the standalone firmware on the emulated "
                   "board and show each layer's instructions (QEMU -icount, exact) and how far "
                   "the model is above its SMLAD floor (MACs ÷ 2)")
    _weights_budget_option(p)
    p.set_defaults(func=commands.cmd_analyze)

    p = command("fit", "does a model fit a board's flash and RAM?", _examples(
        "tinyml fit model_int8.tflite --board nano33ble",
        "tinyml fit model_int8.tflite --board nano33ble --board pico --runtime standalone",
        "tinyml fit model_int8.tflite            # every known board, as a table",
        "tinyml fit --list-boards") + "\n\nExits with status 1 when a board given with --board "
        "cannot take the model.")
    p.add_argument("model", nargs="?", help="a .tflite file")
    p.add_argument("--board", action="append",
                   help="board id (repeat for several; default: every known board)")
    p.add_argument("--runtime", default=fit.RUNTIMES[0], choices=fit.RUNTIMES,
                   help="tflm: TFLite Micro (code estimated, arena measured); standalone: the "
                   "generated C, measured with the ARM compiler")
    p.add_argument("--list-boards", action="store_true", help="list the known boards")
    p.set_defaults(func=commands.cmd_fit)

    p = command("sketch", "write a PlatformIO project that runs the model and checks it against "
                "the host", _examples(
                    "tinyml sketch model_int8.tflite --out firmware/ --data holdout.csv",
                    "tinyml sketch model_int8.tflite --out firmware/ --vectors 32 --seed 1",
                    "tinyml sketch model_int8.tflite --board nano33ble --out sketch/",
                    "tinyml build firmware/ && tinyml flash firmware/ && "
                    "tinyml monitor firmware/ --until-done"))
    p.add_argument("model", help="a full-integer int8 .tflite (or int8 inside, float I/O)")
    p.add_argument("--out", required=True, help="project folder (created, or updated: your "
                   "platformio.ini and main source are kept)")
    p.add_argument("--runtime", choices=["tflm", "standalone"],
                   help="tflm: a TensorFlow Lite Micro Arduino sketch (default for real boards, "
                   "with a second env `emulated`); standalone: dependency-free C generated for "
                   "this model (default for the emulated board)")
    p.add_argument("--board", default=EMULATED_BOARD, help="the board to build for, e.g. "
                   "nano33ble, esp32-s3, esp32dev, pico, nucleo_f446re, portenta_h7_m7")
    p.add_argument("--input", default="vectors", choices=["vectors", "apds9960"],
                   help="tflm: the embedded test vectors, or APDS-9960 colour readings turned "
                   "into features by features.toml (--data: the readings the board gets)")
    p.add_argument("--features", help="the feature definition for --input (default: "
                   "features.toml beside the model)")
    _data_options(p, "data the firmware's test vectors come from (default: random inputs)")
    _labels_option(p)
    p.add_argument("--vectors", type=int, default=vectors.DEFAULT_VECTORS,
                   help="test vectors the firmware runs, stratified by class")
    p.add_argument("--seed", type=int, default=0, help="seed of the choice of test vectors")
    _weights_budget_option(p)
    p.set_defaults(func=commands.cmd_sketch)

    p = command("validate", "check generated C against TFLite Micro element by element, on "
                "this machine or on the board", _examples(
                    "tinyml validate model_int8.tflite",
                    "tinyml validate model_int8.tflite --data holdout.csv",
                    "tinyml validate --on-board firmware/   # flash, run, judge the board")
                + "\n\nExits with status 1 on any difference.")
    p.add_argument("model", nargs="?", help="a full-integer int8 .tflite")
    p.add_argument("--runtime", default="standalone", choices=["standalone"],
                   help="the generated runtime to check")
    _data_options(p, "inputs to compare on")
    p.add_argument("--random", type=int, help="random inputs to compare on (default: "
                   f"{validate.DEFAULT_RANDOM_INPUTS} without --data)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random inputs")
    p.add_argument("--on-board", metavar="PROJECT",
                   help="flash this firmware project and compare the board's outputs with the "
                   "host's (the same as flash, then monitor --until-done)")
    p.add_argument("--timeout", type=float, help="with --on-board: seconds the board may take "
                   "for its run (default: what its test vectors should take)")
    p.set_defaults(func=commands.cmd_validate)

    p = command("build", "build a PlatformIO project (pio run): sizes and file:line diagnostics",
                _examples("tinyml build firmware/", "tinyml build firmware/ --json"))
    p.add_argument("project", nargs="?", default=".", help="project folder")
    p.add_argument("--env", help="PlatformIO environment (default: the project's default)")
    p.set_defaults(func=commands.cmd_build)

    p = command("flash", "build and upload (the emulated board: start it under QEMU)",
                _examples("tinyml flash firmware/", "tinyml flash firmware/ --env tinyml-qemu-m4",
                          "tinyml flash sketch/ --replay readings.csv"))
    p.add_argument("project", nargs="?", default=".", help="project folder")
    p.add_argument("--env", help="PlatformIO environment (default: the project's default)")
    p.add_argument("--replay", action="append", metavar="[DEVICE=]CSV",
                   help="emulated board: readings its sensor replays (default device apds9960: "
                        "columns red, green, blue, clear[, proximity]); docs/firmware.md")
    p.set_defaults(func=commands.cmd_flash)

    p = command("monitor", "read the board's serial output; with --until-done, judge the run",
                _examples("tinyml monitor firmware/ --until-done",
                          "tinyml monitor firmware/ --port /dev/ttyACM0",
                          "tinyml monitor firmware/ --until-done --json | jq .")
                + "\n\nWith --json, one JSON object per line: one per event (ready, inference, "
                "output, done, error, text, attached, released, disconnected), and a last "
                "{\"event\": \"summary\", ...} with the on-board verdict. Exits with status 1 "
                "when the board reports an error, goes away, or disagrees with the host.")
    p.add_argument("project", nargs="?", default=".", help="project folder")
    p.add_argument("--port", help="serial port or pyserial URL (default: the emulated board's)")
    p.add_argument("--baud", type=int, default=monitor.BAUDRATE, help="baud rate")
    p.add_argument("--until-done", action="store_true",
                   help="stop at the end of the firmware's run and judge it against the host")
    p.add_argument("--timeout", type=float, help="give up after this many seconds (with "
                   "--until-done, by default the time the project's test vectors should take)")
    p.set_defaults(func=commands.cmd_monitor)

    p = command("stop", "stop a project's emulated board", _examples(
        "tinyml stop firmware/", "tinyml stop --all"))
    p.add_argument("project", nargs="?", default=".", help="project folder")
    p.add_argument("--all", action="store_true", help="stop every running emulated board")
    p.set_defaults(func=commands.cmd_stop)

    p = command("devices", "list running emulated boards and serial ports", _examples(
        "tinyml devices", "tinyml devices --json"))
    p.set_defaults(func=commands.cmd_devices)

    _serve(command)
    llm_commands.add_parsers(command)
    data_commands.add_parsers(command, common)
    check_commands.add_parsers(command)
    report_command.add_parser(command)
    return parser
