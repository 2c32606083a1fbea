"""PlatformIO development platform `tinyml-qemu`: Cortex-M boards emulated by qemu-system-arm.

The toolchain package is not downloaded: tinyml-lsp's set-up (`python -m
tinyml_lsp.deploy.pio_setup`) writes one into PLATFORMIO_CORE_DIR whose bin/ points at Debian's
gcc-arm-none-eabi. Without it PlatformIO would ask its registry, which fails offline with an
unhelpful message, so say what to run instead.
"""

from platformio.exception import UserSideException
from platformio.public import PlatformBase

TOOLCHAIN = "toolchain-gccarmnoneeabi"


class TinymlqemuPlatform(PlatformBase):
    def configure_default_packages(self, variables, targets):
        if not self.get_package(TOOLCHAIN):
            raise UserSideException(
                "the tinyml-qemu platform needs the toolchain package that points at Debian's "
                "gcc-arm-none-eabi; run `python -m tinyml_lsp.deploy.pio_setup` (apt: "
                "gcc-arm-none-eabi libnewlib-arm-none-eabi) and use the PLATFORMIO_CORE_DIR it "
                "prints"
            )
        return super().configure_default_packages(variables, targets)
