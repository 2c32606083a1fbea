"""Deploy: boards, PlatformIO, the emulated board, the serial monitor."""
