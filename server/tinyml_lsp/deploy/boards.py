"""Boards people run TinyML on: memory, core and FPU from their datasheets.

`ram_bytes` is what a sketch can use for its data (for the ESP32 family: the internal DRAM
left to applications, not the whole SRAM; external PSRAM is listed apart because TFLite Micro
arenas there are slow). `platformio` is the board's PlatformIO id. `framework_*` is what an
empty Arduino sketch already takes on the board (its core, and for the Nano 33 BLE Mbed OS),
approximate figures from the Arduino IDE's size report; 0 where we do not know it.
`pio_platform` is the PlatformIO platform whose Arduino core builds sketches for the board
("" where tinyml does not write Arduino projects for it); `aliases` are other names users give it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from tinyml_lsp.errors import TinymlError

KB = 1024
MB = 1024 * 1024
EMULATED_BOARD = "tinyml-qemu-m4"  # the board that runs here, under QEMU
EMULATED_NANO = "tinyml-qemu-nano33ble"  # the same, as a Nano 33 BLE Sense (Arduino core)
ARDUINO_FRAMEWORK = "arduino"
MONITOR_SPEED = 115200  # the serial speed every generated firmware uses


@dataclass(frozen=True)
class Board:
    id: str
    name: str
    mcu: str
    core: str
    fpu: str  # "none", "single", "double"
    clock_mhz: int
    flash_bytes: int
    ram_bytes: int
    platformio: str
    psram_bytes: int = 0
    bits: int = 32
    emulated: bool = False
    notes: str = ""
    framework_flash_bytes: int = 0
    framework_ram_bytes: int = 0
    pio_platform: str = ""
    aliases: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


BOARDS: tuple[Board, ...] = (
    Board("nano33ble", "Arduino Nano 33 BLE Sense", "nRF52840", "Cortex-M4F", "single", 64,
          1 * MB, 256 * KB, "nano33ble", framework_flash_bytes=80 * KB,
          framework_ram_bytes=45 * KB, pio_platform="nordicnrf52"),
    Board("nano_rp2040", "Arduino Nano RP2040 Connect", "RP2040", "Cortex-M0+ (dual)", "none",
          133, 16 * MB, 264 * KB, "nanorp2040connect"),
    Board("pico", "Raspberry Pi Pico", "RP2040", "Cortex-M0+ (dual)", "none", 133, 2 * MB,
          264 * KB, "pico", pio_platform="raspberrypi", aliases=("rp2040",)),
    Board("esp32", "ESP32 DevKitC", "ESP32", "Xtensa LX6 (dual)", "single", 240, 4 * MB,
          320 * KB, "esp32dev", notes="520 KB SRAM, of which ~320 KB DRAM for application data",
          framework_flash_bytes=210 * KB, framework_ram_bytes=13 * KB,
          pio_platform="espressif32"),
    Board("esp32s3", "ESP32-S3-DevKitC-1 (N8R8)", "ESP32-S3", "Xtensa LX7 (dual)", "single", 240,
          8 * MB, 320 * KB, "esp32-s3-devkitc-1", psram_bytes=8 * MB,
          notes="512 KB SRAM; 8 MB PSRAM for large arenas", pio_platform="espressif32",
          aliases=("esp32-s3",)),
    Board("xiao_esp32s3", "Seeed XIAO ESP32S3 Sense", "ESP32-S3", "Xtensa LX7 (dual)", "single",
          240, 8 * MB, 320 * KB, "seeed_xiao_esp32s3", psram_bytes=8 * MB,
          notes="512 KB SRAM; 8 MB PSRAM; camera and microphone on the Sense"),
    Board("esp32c3", "ESP32-C3-DevKitM-1", "ESP32-C3", "RISC-V RV32IMC", "none", 160, 4 * MB,
          320 * KB, "esp32-c3-devkitm-1", notes="400 KB SRAM"),
    Board("nucleo_f446re", "STM32 Nucleo-F446RE", "STM32F446RE", "Cortex-M4F", "single", 180,
          512 * KB, 128 * KB, "nucleo_f446re", pio_platform="ststm32"),
    Board("disco_f746ng", "STM32F746G-DISCO", "STM32F746NG", "Cortex-M7F", "single", 216,
          1 * MB, 320 * KB, "disco_f746ng"),
    Board("portenta_h7", "Arduino Portenta H7", "STM32H747XI", "Cortex-M7F + Cortex-M4F",
          "double", 480, 2 * MB, 1 * MB, "portenta_h7_m7", psram_bytes=8 * MB,
          notes="8 MB SDRAM", pio_platform="ststm32"),
    Board("sparkfun_edge", "SparkFun Edge (Apollo3)", "Apollo3 Blue", "Cortex-M4F", "single", 48,
          1 * MB, 384 * KB, "SparkFun_Edge"),
    Board("bluepill", "STM32 Blue Pill", "STM32F103C8", "Cortex-M3", "none", 72, 64 * KB,
          20 * KB, "bluepill_f103c8", pio_platform="ststm32"),
    Board("uno", "Arduino Uno", "ATmega328P", "AVR", "none", 16, 32 * KB, 2 * KB, "uno", bits=8,
          framework_flash_bytes=444, framework_ram_bytes=9),
    Board(EMULATED_BOARD, "tinyml-lsp emulated Cortex-M4 (QEMU mps2-an386)", "mps2-an386",
          "Cortex-M4F", "single", 25, 4 * MB, 4 * MB, EMULATED_BOARD, emulated=True,
          notes="runs under qemu-system-arm; the whole lifecycle with no hardware",
          pio_platform="tinyml-qemu",
          # the same board with the Arduino core, as a Nano 33 BLE Sense (a TFLite Micro
          # sketch's `emulated` env); its build enforces the real Nano's flash and RAM
          aliases=("emulated", EMULATED_NANO)),
)


def render_boards(boards: list[Board]) -> str:
    return "\n".join(f"{b.id:<16} {b.name:<48} {b.core:<24} FPU {b.fpu:<6} "
                     f"flash {b.flash_bytes // KB:>6} KB  RAM {b.ram_bytes // KB:>5} KB"
                     for b in boards)


def board_by_id(board_id: str) -> Board:
    key = board_id.strip().lower()
    for b in BOARDS:
        if key in (b.id.lower(), b.platformio.lower(), *b.aliases):
            return b
    raise TinymlError(f"unknown board {board_id!r}",
                      hint="known boards: " + ", ".join(b.id for b in BOARDS))
