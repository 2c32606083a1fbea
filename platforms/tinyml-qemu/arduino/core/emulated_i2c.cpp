/* emulated_i2c.cpp: register files and the lookup of devices by bus and address. */
#include "emulated_i2c.h"

#include <stdio.h>

#include "core.h"

namespace emulated {

bool RegisterDevice::write(const uint8_t *data, size_t len)
{
    if (len == 0) {
        return true;  // an address probe
    }
    pointer_ = data[0];
    for (size_t i = 1; i < len; i++) {
        write_register(pointer_++, data[i]);
    }
    return true;
}

size_t RegisterDevice::read(uint8_t *data, size_t len)
{
    begin_read(pointer_, len);
    for (size_t i = 0; i < len; i++) {
        data[i] = read_register(pointer_++);
    }
    return len;
}

const BusSlot *find_slot(uint8_t bus, uint8_t address)
{
    for (const BusSlot *slot = variant_i2c_slots; slot->what != nullptr; slot++) {
        if (slot->bus == bus && slot->address == address) {
            return slot;
        }
    }
    return nullptr;
}

void no_device(uint8_t bus, uint8_t address)
{
    char present[96] = "";
    size_t used = 0;
    for (const BusSlot *slot = variant_i2c_slots; slot->what != nullptr; slot++) {
        if (slot->device != nullptr && used < sizeof present) {
            used += snprintf(present + used, sizeof present - used, "%s%s at 0x%02X on Wire%s",
                             used ? ", " : "", slot->device->name(), slot->address,
                             slot->bus ? "1" : "");
        }
    }
    const char *bus_name = bus ? "Wire1" : "Wire";
    const BusSlot *slot = find_slot(bus, address);
    if (slot != nullptr) {
        core_fail("I2C device 0x%02X on %s (%s) is not emulated on this board; emulated: %s",
                  address, bus_name, slot->what, used ? present : "none");
    }
    core_fail("no I2C device at address 0x%02X on %s; emulated: %s", address, bus_name,
              used ? present : "none");
}

}  // namespace emulated
