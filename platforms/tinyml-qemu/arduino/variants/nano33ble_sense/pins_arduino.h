/*
 * pins_arduino.h: the emulated board presents itself as an Arduino Nano 33 BLE Sense — the pin
 * numbers of its official core (ArduinoCore-mbed, variant ARDUINO_NANO33BLE), so sketches and
 * libraries written for that board build unchanged. The LEDs map onto the emulated board's
 * FPGAIO LEDs and their changes are reported to the host (pins.cpp); the sensors on the
 * internal I2C bus (Wire1) are emulated devices (variant.cpp).
 */
#pragma once

#include <stdint.h>

#define PINS_COUNT (35u)
#define NUM_DIGITAL_PINS (22u)
#define NUM_ANALOG_INPUTS (8u)
#define NUM_ANALOG_OUTPUTS (0u)

#define D0 (0u)
#define D1 (1u)
#define D2 (2u)
#define D3 (3u)
#define D4 (4u)
#define D5 (5u)
#define D6 (6u)
#define D7 (7u)
#define D8 (8u)
#define D9 (9u)
#define D10 (10u)
#define D11 (11u)
#define D12 (12u)
#define D13 (13u)

#define PIN_A0 (14u)
#define PIN_A1 (15u)
#define PIN_A2 (16u)
#define PIN_A3 (17u)
#define PIN_A4 (18u)
#define PIN_A5 (19u)
#define PIN_A6 (20u)
#define PIN_A7 (21u)
static const uint8_t A0 = PIN_A0;
static const uint8_t A1 = PIN_A1;
static const uint8_t A2 = PIN_A2;
static const uint8_t A3 = PIN_A3;
static const uint8_t A4 = PIN_A4;
static const uint8_t A5 = PIN_A5;
static const uint8_t A6 = PIN_A6;
static const uint8_t A7 = PIN_A7;

/* LEDs: the built-in (yellow, active high), the RGB LED and the power LED (active low) */
#define LED_BUILTIN (13u)
#define LEDR (22u)
#define LEDG (23u)
#define LEDB (24u)
#define LED_PWR (25u)

#define PIN_INT_APDS (26u)
#define PIN_ENABLE_SENSORS_3V3 (32u)
#define PIN_ENABLE_I2C_PULLUP (33u)

#define WIRE_HOWMANY 2
#define PIN_WIRE_SDA (18u)
#define PIN_WIRE_SCL (19u)
#define PIN_WIRE_SDA1 (30u)
#define PIN_WIRE_SCL1 (31u)

#define SERIAL_HOWMANY 1

#define digitalPinToInterrupt(p) (p)

#ifdef __cplusplus
/* The nRF52840 pin names of the official core (mbed's PinNames.h): libraries written for the
   Nano 33 BLE name pins this way (e.g. TFLite Micro's peripherals/); there is no such silicon
   here, only the names. */
typedef enum {
    P0_0 = 0, P0_1, P0_2, P0_3, P0_4, P0_5, P0_6, P0_7, P0_8, P0_9, P0_10, P0_11, P0_12,
    P0_13, P0_14, P0_15, P0_16, P0_17, P0_18, P0_19, P0_20, P0_21, P0_22, P0_23, P0_24,
    P0_25, P0_26, P0_27, P0_28, P0_29, P0_30, P0_31,
    P1_0, P1_1, P1_2, P1_3, P1_4, P1_5, P1_6, P1_7, P1_8, P1_9, P1_10, P1_11, P1_12, P1_13,
    P1_14, P1_15,
    NC = -1
} PinName;
#endif
