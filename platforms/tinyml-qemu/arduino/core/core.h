/*
 * core.h: the emulated board's side of the Arduino core — what the core reports to the host.
 *
 * Lines starting with "TINYML " are events for tinyml-lsp's serial monitor (docs/firmware.md):
 * LED changes (`TINYML LED ...`, which a plain serial terminal shows as text), a replay that
 * is over, and errors (`TINYML ERROR ...`, which end the run). They are written straight to
 * the UART, each on a line of its own (after the sketch's half-written line, if any).
 */
#ifndef TINYML_ARDUINO_CORE_H
#define TINYML_ARDUINO_CORE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Print one event line ("TINYML " + text + "\r\n"), on a line of its own. */
void core_event(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* Print `TINYML ERROR <text>` and stop the board (the monitor reports it and ends). */
__attribute__((noreturn)) void core_fail(const char *format, ...)
    __attribute__((format(printf, 1, 2)));

/* Called by the UART writer: tracks whether the sketch left a line unfinished. */
void core_note_output(uint8_t c);

#ifdef __cplusplus
}
#endif

#endif
