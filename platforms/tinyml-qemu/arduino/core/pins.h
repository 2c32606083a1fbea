/*
 * pins.h: what the variant tells the core about its pins.
 *
 * An LED pin is shown on one of the emulated board's FPGAIO LEDs and each change of it is
 * reported to the host as `TINYML LED name=<name> pin=<pin> brightness=<0..255>` (0 off, 255
 * fully on; active-low LEDs are accounted for).
 */
#pragma once

#include <stdint.h>

struct VariantLed {
    uint8_t pin;
    const char *name;
    bool active_low;
    uint8_t fpgaio_bit;  // which FPGAIO LED shows it
};

extern const VariantLed variant_leds[];
extern const unsigned variant_led_count;
