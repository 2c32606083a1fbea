"""Deploy: boards and fit, firmware projects (`sketch`), PlatformIO build and upload, the
emulated board, the serial monitor, and whole runs on the board (`board_run`)."""
