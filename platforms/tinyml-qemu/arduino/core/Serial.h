/*
 * Serial.h: `Serial` is UART0 of the emulated board, the port tinyml-lsp's monitor reads
 * (QEMU connects it to a pty). The UART always runs at 115200 8N1; begin() accepts any baud
 * rate, as a USB CDC port does, and `while (!Serial)` passes at once.
 */
#pragma once

#include "api/HardwareSerial.h"
#include "api/RingBuffer.h"

namespace arduino {

class UART : public HardwareSerial {
  public:
    void begin(unsigned long baudrate) override;
    void begin(unsigned long baudrate, uint16_t config) override;
    void end() override;
    int available(void) override;
    int peek(void) override;
    int read(void) override;
    void flush(void) override;
    size_t write(uint8_t c) override;
    size_t write(const uint8_t *buffer, size_t size) override;
    using Print::write;
    operator bool() override { return true; }

  private:
    void poll();
    RingBufferN<64> rx_;
};

}  // namespace arduino

extern arduino::UART Serial;
#define SerialUSB Serial
