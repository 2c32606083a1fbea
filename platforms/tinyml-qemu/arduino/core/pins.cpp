/*
 * pins.cpp: digital and analog pins of the emulated board.
 *
 * Only the LEDs have hardware behind them (pins.h). Other pins remember what was written, so
 * digitalRead() of an output reads it back; an input reads LOW, or HIGH with INPUT_PULLUP;
 * analogRead() reads 0; interrupts never fire. No sensor here is wired to a pin: the emulated
 * sensors sit on the I2C bus (Wire.h).
 */
#include "Arduino.h"
#include "core.h"
#include "pins.h"

namespace {

volatile uint32_t *const fpgaio_led = reinterpret_cast<volatile uint32_t *>(0x40028000u);

struct PinState {
    uint8_t mode = INPUT;
    uint8_t level = LOW;
    int16_t brightness = -1;  // last reported (LEDs), -1: never
};

PinState pins[PINS_COUNT];

const VariantLed *led_of(pin_size_t pin)
{
    for (unsigned i = 0; i < variant_led_count; i++) {
        if (variant_leds[i].pin == pin) {
            return &variant_leds[i];
        }
    }
    return nullptr;
}

void show(pin_size_t pin, int brightness)
{
    const VariantLed *led = led_of(pin);
    if (led == nullptr || pins[pin].brightness == brightness) {
        return;
    }
    pins[pin].brightness = static_cast<int16_t>(brightness);
    const uint32_t bit = 1u << led->fpgaio_bit;
    *fpgaio_led = brightness >= 128 ? (*fpgaio_led | bit) : (*fpgaio_led & ~bit);
    core_event("LED name=%s pin=%u brightness=%d", led->name, static_cast<unsigned>(pin),
               brightness);
}

}  // namespace

void pinMode(pin_size_t pin, PinMode mode)
{
    if (pin >= PINS_COUNT) {
        return;
    }
    pins[pin].mode = static_cast<uint8_t>(mode);
    if (mode == INPUT_PULLUP) {
        pins[pin].level = HIGH;
    }
}

void digitalWrite(pin_size_t pin, PinStatus status)
{
    if (pin >= PINS_COUNT) {
        return;
    }
    pins[pin].level = status == LOW ? LOW : HIGH;
    if (const VariantLed *led = led_of(pin)) {
        show(pin, (pins[pin].level == HIGH) != led->active_low ? 255 : 0);
    }
}

PinStatus digitalRead(pin_size_t pin)
{
    return pin < PINS_COUNT && pins[pin].level == HIGH ? HIGH : LOW;
}

void analogWrite(pin_size_t pin, int value)
{
    if (pin >= PINS_COUNT) {
        return;
    }
    value = value < 0 ? 0 : value > 255 ? 255 : value;
    pins[pin].level = value >= 128 ? HIGH : LOW;
    if (const VariantLed *led = led_of(pin)) {
        show(pin, led->active_low ? 255 - value : value);
    }
}

int analogRead(pin_size_t) { return 0; }
void analogReference(uint8_t) {}
void attachInterrupt(pin_size_t, voidFuncPtr, PinStatus) {}
void attachInterruptParam(pin_size_t, voidFuncPtrParam, PinStatus, void *) {}
void detachInterrupt(pin_size_t) {}

unsigned long pulseIn(pin_size_t, uint8_t, unsigned long) { return 0; }
unsigned long pulseInLong(pin_size_t, uint8_t, unsigned long) { return 0; }
void shiftOut(pin_size_t, pin_size_t, BitOrder, uint8_t) {}
uint8_t shiftIn(pin_size_t, pin_size_t, BitOrder) { return 0; }
void tone(uint8_t, unsigned int, unsigned long) {}
void noTone(uint8_t) {}
