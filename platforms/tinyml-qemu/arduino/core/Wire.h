/*
 * Wire.h: the emulated board's I2C buses, `Wire` and `Wire1` (the Nano 33 BLE Sense's internal
 * sensor bus), as ArduinoCore-API's HardwareI2C. Transactions go to emulated devices
 * (emulated_i2c.h); one addressed to an address where nothing is emulated stops the board
 * with a message naming the bus, the address and the chip the real board has there.
 */
#pragma once

#include "Arduino.h"
#include "api/HardwareI2C.h"

namespace arduino {

class EmulatedI2C : public HardwareI2C {
  public:
    explicit EmulatedI2C(uint8_t bus) : bus_(bus) {}
    void begin() override {}
    void begin(uint8_t) override {}  // target mode: nothing on the bus ever talks to us
    void end() override {}
    void setClock(uint32_t) override {}

    void beginTransmission(uint8_t address) override;
    uint8_t endTransmission(bool stopBit) override;
    uint8_t endTransmission(void) override { return endTransmission(true); }

    size_t requestFrom(uint8_t address, size_t len, bool stopBit) override;
    size_t requestFrom(uint8_t address, size_t len) override { return requestFrom(address, len, true); }

    void onReceive(void (*)(int)) override {}
    void onRequest(void (*)(void)) override {}

    size_t write(uint8_t data) override;
    size_t write(const uint8_t *data, size_t len) override;
    using Print::write;
    int available() override { return static_cast<int>(rx_len_ - rx_pos_); }
    int read() override { return rx_pos_ < rx_len_ ? rx_[rx_pos_++] : -1; }
    int peek() override { return rx_pos_ < rx_len_ ? rx_[rx_pos_] : -1; }
    void flush() override {}

  private:
    static constexpr size_t kBuffer = 256;
    uint8_t bus_;
    uint8_t address_ = 0;
    uint8_t tx_[kBuffer];
    size_t tx_len_ = 0;
    bool transmitting_ = false;
    uint8_t rx_[kBuffer];
    size_t rx_len_ = 0;
    size_t rx_pos_ = 0;
};

// The name the Nano 33 BLE's official core (ArduinoCore-mbed) gives its I2C class; libraries
// written for that board use it (TFLite Micro's peripherals/).
using MbedI2C = EmulatedI2C;

}  // namespace arduino

typedef arduino::EmulatedI2C TwoWire;
extern arduino::EmulatedI2C Wire;
extern arduino::EmulatedI2C Wire1;
