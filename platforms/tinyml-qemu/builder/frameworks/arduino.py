"""`framework = arduino` on the tinyml-qemu platform (run by PlatformIO, not imported).

The core (`arduino/core/`) implements ArduinoCore-API — the hardware-independent Arduino API
that the official mbed and renesas cores build on — for the emulated board: `main()`, time
from the board's timer, pins and LEDs, `Serial` on UART0, `Wire`/`Wire1` whose bus hosts
emulated devices. ArduinoCore-API itself and the Arduino libraries the emulated board ships
with (TFLite Micro, Arduino_APDS9960) are not copied anywhere: they are compiled from the
pinned third-party folder (tinyml_lsp.deploy.third_party, setting TINYML_THIRD_PARTY).

The board presents itself as the board it emulates (`build.arduino.board`, e.g.
ARDUINO_NANO33BLE → ARDUINO_ARDUINO_NANO33BLE, the macro libraries test), and library sources
written for that board's silicon only (`build.arduino.skip_sources`, e.g. the TFLite Micro
library's nRF52840 I2S driver) are left out of the build by a build middleware, so the
libraries stay unmodified.

Compiled objects are kept in a build cache under tinyml-lsp's state folder (SCons CacheDir,
keyed by each object's sources and command line), so the TFLite Micro library — some 200
files — is compiled once per machine and every later project links it from the cache
(TINYML_BUILD_CACHE: another folder, or `off`).
"""

import fnmatch
import hashlib
import os
import sys

from SCons.Script import DefaultEnvironment

env = DefaultEnvironment()
platform = env.PioPlatform()
board = env.BoardConfig()

try:
    from tinyml_lsp.deploy import pio_setup, third_party
    from tinyml_lsp.errors import TinymlError
except ImportError:
    sys.stderr.write(
        "Error: the Arduino core of tinyml-qemu builds against the pinned libraries that "
        f"tinyml-lsp locates; tinyml-lsp is not importable in PlatformIO's Python "
        f"({sys.executable}): build with `tinyml build` or install tinyml-lsp there\n")
    env.Exit(1)

try:
    core_api = str(third_party.require(third_party.ARDUINO_CORE_API))
    shipped = [third_party.require(lib) for lib in (third_party.TFLITE_MICRO,
                                                    third_party.APDS9960)]
except TinymlError as exc:
    sys.stderr.write(f"Error: {exc.path}: {exc.message}"
                     + (f" (hint: {exc.hint})" if exc.hint else "") + "\n")
    env.Exit(1)

arduino_dir = os.path.join(platform.get_dir(), "arduino")
core_dir = os.path.join(arduino_dir, "core")
variant_dir = os.path.join(arduino_dir, "variants", board.get("build.arduino.variant"))
emulated_board = board.get("build.arduino.board")


def _library_folder(libraries):
    """A folder of links to the libraries this board ships with, for PlatformIO's library
    finder (the third-party root also holds ArduinoCore-API, which is the core's, not a
    library). Made once per set of paths; links only, nothing copied."""
    key = hashlib.sha1("\n".join(str(p) for p in libraries).encode()).hexdigest()[:12]
    folder = pio_setup.state_dir() / "arduino" / f"libraries-{key}"
    for path in libraries:
        link = folder / path.name
        if not link.is_symlink():
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".{path.name}.{os.getpid()}"
            tmp.symlink_to(path, target_is_directory=True)
            tmp.replace(link)  # atomic: two builds may do this at once
    return str(folder)


env.Append(
    CPPDEFINES=[
        ("ARDUINO", 10819),
        f"ARDUINO_{emulated_board}",
        "ARDUINO_ARCH_TINYML_QEMU",
    ],
    CPPPATH=[
        core_dir,
        variant_dir,
        core_api,  # "api/ArduinoAPI.h"
        os.path.join(core_api, "api", "deprecated"),  # <WString.h>, <HardwareSerial.h>
        os.path.join(core_api, "api", "deprecated-avr-comp"),  # <avr/pgmspace.h>
    ],
    CXXFLAGS=["-std=gnu++17"],
    LIBSOURCE_DIRS=[_library_folder(shipped)],
)

# Sources written for the emulated board's real silicon only: leave them out, unedited.
skipped = board.get("build.arduino.skip_sources", [])
if skipped:
    env.AddBuildMiddleware(
        lambda node: None if any(fnmatch.fnmatch(node.srcnode().get_abspath(), pattern)
                                 for pattern in skipped) else node)

if not env.subst("$BUILD_CACHE_DIR"):  # the project's own `build_cache_dir` wins
    # TINYML_BUILD_CACHE: one cache for several checkouts (or "off")
    cache = os.environ.get("TINYML_BUILD_CACHE") or str(
        pio_setup.state_dir() / "arduino" / "build-cache")
    if cache != "off":
        os.makedirs(cache, exist_ok=True)
        env.CacheDir(cache)

# The core is linked as objects, not an archive: it overrides weak handlers of the startup
# code (the timer interrupt), which an archive member would not do.
env.BuildSources(os.path.join("$BUILD_DIR", "FrameworkArduino"), core_dir)
env.BuildSources(os.path.join("$BUILD_DIR", "FrameworkArduinoVariant"), variant_dir)
env.Prepend(LIBS=[env.BuildLibrary(
    os.path.join("$BUILD_DIR", "ArduinoCoreAPI"), os.path.join(core_api, "api"),
    src_filter="+<*.cpp> -<PluggableUSB.cpp>")])
