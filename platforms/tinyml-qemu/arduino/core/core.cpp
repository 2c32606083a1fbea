/* core.cpp: event lines for the host (see core.h). */
#include "core.h"

#include <stdarg.h>
#include <stdio.h>

#include "tinyml_board.h"

static bool mid_line;  // the sketch printed characters after its last newline

extern "C" void core_note_output(uint8_t c)
{
    mid_line = c != '\n';
}

static void put_line(const char *prefix, const char *format, va_list args)
{
    char text[192];
    vsnprintf(text, sizeof text, format, args);
    fflush(stdout);  // the sketch's printf output first
    if (mid_line) {
        board_putc('\r');
        board_putc('\n');
    }
    for (const char *p = prefix; *p; p++) {
        board_putc(*p);
    }
    for (const char *p = text; *p; p++) {
        board_putc(*p);
    }
    board_putc('\r');
    board_putc('\n');
    mid_line = false;
}

extern "C" void core_event(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    put_line("TINYML ", format, args);
    va_end(args);
}

extern "C" void core_fail(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    put_line("TINYML ERROR ", format, args);
    va_end(args);
    board_halt();
}
