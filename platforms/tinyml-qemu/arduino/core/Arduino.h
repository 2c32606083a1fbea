/*
 * Arduino.h of tinyml-lsp's Arduino core for the emulated board (QEMU mps2-an386).
 *
 * The API is ArduinoCore-API's (pinned, in the third-party folder); this core supplies what a
 * board supplies: main(), time, pins, Serial, Wire — see core.h and the variant's
 * pins_arduino.h for how each maps onto the emulated hardware.
 */
#ifndef Arduino_h
#define Arduino_h

#include "api/ArduinoAPI.h"

#if defined(__cplusplus)
using namespace arduino;
#endif

#include "pins_arduino.h"

/* as in the official Cortex-M cores: mask and unmask every interrupt */
#define interrupts() __asm volatile("cpsie i" ::: "memory")
#define noInterrupts() __asm volatile("cpsid i" ::: "memory")

#if defined(__cplusplus)
#include "Serial.h"
#endif

#endif /* Arduino_h */
