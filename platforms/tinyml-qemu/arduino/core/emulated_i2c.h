/*
 * emulated_i2c.h: devices on the emulated board's I2C buses.
 *
 * There is no I2C controller in QEMU's mps2-an386 that has sensors behind it, so `Wire`
 * (Wire.h) delivers each transaction straight to a device model running beside the sketch:
 * a write transaction is `write(bytes)`, a read transaction `read(buffer, n)`. Most sensors are
 * register files with an auto-incrementing register pointer; they derive from RegisterDevice
 * and only say what each register reads and what a write does. Which device sits on which bus
 * at which address is the variant's table (variant.cpp); a new sensor (an IMU, a microphone
 * codec) is a new class and a row there. Recorded sensor data comes from the replay (replay.h).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace emulated {

class I2CDevice {
  public:
    virtual ~I2CDevice() = default;
    virtual const char *name() const = 0;
    // A write transaction: the bytes after the address. False: the device NACKs.
    virtual bool write(const uint8_t *data, size_t len) = 0;
    // A read transaction of `len` bytes; how many the device sent.
    virtual size_t read(uint8_t *data, size_t len) = 0;
};

class RegisterDevice : public I2CDevice {
  public:
    bool write(const uint8_t *data, size_t len) override;
    size_t read(uint8_t *data, size_t len) override;

  protected:
    virtual uint8_t read_register(uint8_t reg) = 0;
    virtual void write_register(uint8_t reg, uint8_t value) = 0;
    // A read transaction starts at `first` (lets a device latch a multi-byte value).
    virtual void begin_read(uint8_t first, size_t len) { (void)first, (void)len; }

  private:
    uint8_t pointer_ = 0;
};

struct BusSlot {
    uint8_t bus;  // 0: Wire, 1: Wire1
    uint8_t address;
    I2CDevice *device;  // nullptr: a chip of the real board that is not emulated
    const char *what;   // for messages: the chip and what it is
};

// The variant's table, ended by a row whose `what` is nullptr.
extern const BusSlot variant_i2c_slots[];

const BusSlot *find_slot(uint8_t bus, uint8_t address);

// Stops the board with a message naming the bus, the address and what is missing there.
[[noreturn]] void no_device(uint8_t bus, uint8_t address);

}  // namespace emulated
