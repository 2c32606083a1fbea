/* Serial.cpp: Serial on UART0 (see Serial.h). */
#include "Serial.h"

#include <stdio.h>

#include "core.h"
#include "tinyml_board.h"

arduino::UART Serial;

namespace arduino {

void UART::begin(unsigned long) { board_init(); }
void UART::begin(unsigned long baudrate, uint16_t) { begin(baudrate); }
void UART::end() {}

void UART::poll()
{
    int c;
    while (rx_.availableForStore() && (c = board_getc()) >= 0) {
        rx_.store_char(static_cast<uint8_t>(c));
    }
}

int UART::available(void)
{
    poll();
    return rx_.available();
}

int UART::peek(void)
{
    poll();
    return rx_.peek();
}

int UART::read(void)
{
    poll();
    return rx_.read_char();
}

void UART::flush(void) { fflush(stdout); }

size_t UART::write(uint8_t c)
{
    board_putc(static_cast<char>(c));
    core_note_output(c);
    return 1;
}

size_t UART::write(const uint8_t *buffer, size_t size)
{
    for (size_t i = 0; i < size; i++) {
        write(buffer[i]);
    }
    return size;
}

}  // namespace arduino
