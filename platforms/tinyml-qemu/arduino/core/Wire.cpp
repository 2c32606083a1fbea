/* Wire.cpp: I2C transactions delivered to the emulated devices (see Wire.h). */
#include "Wire.h"

#include "emulated_i2c.h"

arduino::EmulatedI2C Wire(0);
arduino::EmulatedI2C Wire1(1);

namespace arduino {

static emulated::I2CDevice *device_at(uint8_t bus, uint8_t address)
{
    const emulated::BusSlot *slot = emulated::find_slot(bus, address);
    if (slot == nullptr || slot->device == nullptr) {
        emulated::no_device(bus, address);
    }
    return slot->device;
}

void EmulatedI2C::beginTransmission(uint8_t address)
{
    address_ = address;
    tx_len_ = 0;
    transmitting_ = true;
}

size_t EmulatedI2C::write(uint8_t data)
{
    if (!transmitting_ || tx_len_ >= kBuffer) {
        return 0;
    }
    tx_[tx_len_++] = data;
    return 1;
}

size_t EmulatedI2C::write(const uint8_t *data, size_t len)
{
    size_t done = 0;
    while (done < len && write(data[done])) {
        done++;
    }
    return done;
}

// Arduino's codes: 0 success, 2 NACK on the address, 3 NACK on data.
uint8_t EmulatedI2C::endTransmission(bool)
{
    transmitting_ = false;
    emulated::I2CDevice *device = device_at(bus_, address_);
    return device->write(tx_, tx_len_) ? 0 : 3;
}

size_t EmulatedI2C::requestFrom(uint8_t address, size_t len, bool)
{
    emulated::I2CDevice *device = device_at(bus_, address);
    rx_len_ = device->read(rx_, len < kBuffer ? len : kBuffer);
    rx_pos_ = 0;
    return rx_len_;
}

}  // namespace arduino
