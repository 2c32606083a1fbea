"""SCons build script of the tinyml-qemu platform (run by PlatformIO, not imported).

Every firmware is linked with the board support of its board (`board/<variant>/`: startup code
and vector table, UART and timer, newlib-nano retargeting) and the board's linker script.
`pio run -t upload` "flashes" the emulated board: tinyml-lsp's emulator module starts QEMU with
the ELF, halted, its UART on a pty, and records where in `.pio/tinyml-qemu/`; the serial monitor
opens that pty and lets the board run.
"""

import importlib.util
import os
import sys

from SCons.Script import AlwaysBuild, Default, DefaultEnvironment

env = DefaultEnvironment()
platform = env.PioPlatform()
board = env.BoardConfig()

variant = board.get("build.variant")
board_dir = os.path.join(platform.get_dir(), "board", variant)
ldscript = board.get("build.ldscript")
if not os.path.isabs(ldscript) and not os.path.isfile(env.subst(os.path.join("$PROJECT_DIR",
                                                                             ldscript))):
    ldscript = os.path.join(platform.get_dir(), "ldscripts", ldscript)

qemu = board.get("qemu")
machine_flags = [
    f"-mcpu={board.get('build.cpu')}",
    "-mthumb",
    "-mfloat-abi=hard",
    "-mfpu=fpv4-sp-d16",
]

env.Replace(
    AR="arm-none-eabi-gcc-ar",
    AS="arm-none-eabi-as",
    CC="arm-none-eabi-gcc",
    CXX="arm-none-eabi-g++",
    GDB="arm-none-eabi-gdb",
    OBJCOPY="arm-none-eabi-objcopy",
    RANLIB="arm-none-eabi-gcc-ranlib",
    SIZETOOL="arm-none-eabi-size",
    ARFLAGS=["rc"],
    # PlatformIO's size check: flash = text + data, RAM = data + bss (`size -B`)
    SIZECHECKCMD="$SIZETOOL -B -d $SOURCES",
    SIZEPROGREGEXP=r"^(\d+)\s+(\d+)\s+\d+\s",
    SIZEDATAREGEXP=r"^\d+\s+(\d+)\s+(\d+)\s+\d+",
    SIZEPRINTCMD="$SIZETOOL -B -d $SOURCES",
    PROGNAME="firmware",
    PROGSUFFIX=".elf",
    LDSCRIPT_PATH=ldscript,
    UPLOADER="$PYTHONEXE -m tinyml_lsp.deploy.emulator",
    UPLOADCMD='"$PYTHONEXE" -m tinyml_lsp.deploy.emulator start --project-dir "$PROJECT_DIR" '
    f"--machine {qemu['machine']} --cpu {qemu['cpu']} --icount {qemu['icount']} $SOURCE",
)

env.Append(
    ASFLAGS=machine_flags,
    ASPPFLAGS=["-x", "assembler-with-cpp"],
    CCFLAGS=[*machine_flags, "-Os", "-ffunction-sections", "-fdata-sections", "-Wall"],
    CFLAGS=["-std=gnu11"],
    CXXFLAGS=["-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics"],
    CPPDEFINES=[("F_CPU", "$BOARD_F_CPU"), "TINYML_QEMU"],
    CPPPATH=[board_dir],
    LINKFLAGS=[
        *machine_flags,
        "-Os",
        "-Wl,--gc-sections",
        "--specs=nano.specs",
        "-u",
        "_printf_float",  # INFERENCE lines print a float score
        "-Wl,-Map," + os.path.join("$BUILD_DIR", "firmware.map"),
    ],
    LIBS=["m"],
)

# The board support is part of every firmware of this platform.
env.BuildSources(os.path.join("$BUILD_DIR", f"board_{variant}"), board_dir)

target_elf = env.BuildProgram()


def _check_uploader(target, source, env):
    if importlib.util.find_spec("tinyml_lsp") is None:
        sys.stderr.write(
            f"Error: uploading to {env.subst('$BOARD')} starts QEMU through tinyml-lsp, which "
            f"is not installed in PlatformIO's Python ({sys.executable}); run `tinyml flash` "
            "or install tinyml-lsp there\n"
        )
        env.Exit(1)


upload = env.Alias(
    "upload",
    target_elf,
    [
        env.VerboseAction(_check_uploader, "Looking for tinyml-lsp's emulator"),
        env.VerboseAction("$UPLOADCMD", f"Uploading $SOURCE to QEMU ({qemu['machine']})"),
    ],
)
AlwaysBuild(upload)

Default([target_elf])
