/*
 * variant.cpp: the Nano 33 BLE Sense as the emulated board presents it — its LEDs, and the
 * chips on its internal I2C bus (Wire1), of which the APDS-9960 is emulated. Addresses of the
 * chips not emulated are listed so a sketch that talks to one is told which chip it wanted.
 */
#include "Arduino.h"
#include "apds9960.h"
#include "emulated_i2c.h"
#include "pins.h"

const VariantLed variant_leds[] = {
    {LED_BUILTIN, "LED_BUILTIN", false, 0},
    {LEDR, "LEDR", true, 1},
    {LEDG, "LEDG", true, 2},
    {LEDB, "LEDB", true, 3},
    {LED_PWR, "LED_PWR", false, 4},
};
const unsigned variant_led_count = sizeof variant_leds / sizeof variant_leds[0];

namespace {
emulated::Apds9960 apds9960;
}

namespace emulated {

const BusSlot variant_i2c_slots[] = {
    {1, Apds9960::kAddress, &apds9960, "APDS-9960 colour, proximity and gesture sensor"},
    {1, 0x6B, nullptr, "LSM9DS1 IMU, accelerometer and gyroscope"},
    {1, 0x1E, nullptr, "LSM9DS1 IMU, magnetometer"},
    {1, 0x5C, nullptr, "LPS22HB pressure sensor"},
    {1, 0x5F, nullptr, "HTS221 humidity and temperature sensor"},
    {1, 0x68, nullptr, "BMI270 IMU of the Rev2 board"},
    {1, 0x10, nullptr, "BMM150 magnetometer of the Rev2 board"},
    {1, 0x44, nullptr, "HS3003 humidity and temperature sensor of the Rev2 board"},
    {0, 0, nullptr, nullptr},
};

}  // namespace emulated
