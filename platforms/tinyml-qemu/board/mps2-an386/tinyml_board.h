/*
 * tinyml_board.h: the small board API of tinyml-lsp's emulated Cortex-M4 (QEMU mps2-an386).
 *
 * The startup code calls board_init() before main() so printf() works from the first line;
 * calling it again is harmless. stdout and stderr go to UART0 (CMSDK APB UART at 0x40004000),
 * which QEMU connects to a pty that the serial monitor reads like a real board's port.
 *
 * Timing: QEMU runs this board with `-icount shift=0,sleep=off`, so the guest executes exactly
 * one instruction per nanosecond of virtual time and the 25 MHz timer (CMSDK APB timer 0 at
 * 0x40000000) ticks once every 40 instructions. board_ticks() therefore measures instructions
 * to within 40, identically from run to run.
 */
#ifndef TINYML_BOARD_H
#define TINYML_BOARD_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BOARD_NAME "tinyml-qemu-m4"
#define BOARD_TIMER_HZ 25000000u            /* SYSCLK of mps2-an386: timer and SysTick */
#define BOARD_INSTRUCTIONS_PER_TICK 40u     /* with -icount shift=0: 1 instruction = 1 ns */

/* Set up UART0 (115200 8N1) and the free-running timer. Idempotent. */
void board_init(void);

/* Ticks of the 25 MHz timer since board_init(); wraps after 2^32 ticks (~171 s virtual). */
uint32_t board_ticks(void);

/* Instructions executed during `ticks` timer ticks (exact to one tick, under -icount shift=0). */
static inline uint64_t board_ticks_to_instructions(uint32_t ticks)
{
    return (uint64_t)ticks * BOARD_INSTRUCTIONS_PER_TICK;
}

/* Virtual microseconds during `ticks` timer ticks. */
static inline uint32_t board_ticks_to_us(uint32_t ticks)
{
    return ticks / (BOARD_TIMER_HZ / 1000000u);
}

/* Blocking write of one byte to UART0 (no newline translation). */
void board_putc(char c);

/* Next byte received on UART0, or -1 when none is waiting. */
int board_getc(void);

/*
 * End the firmware: flush stdout, wait until UART0 has sent everything, then sleep (WFI with
 * interrupts masked and every timer stopped, so the emulator idles) forever. QEMU keeps
 * running, the pty stays open, and the host stops reading at the `TINYML DONE` line.
 * Returning from main() ends here too.
 */
__attribute__((noreturn)) void board_exit(int status);

/* Stop at once, without flushing stdio (what the fault handlers use). */
__attribute__((noreturn)) void board_halt(void);

#ifdef __cplusplus
}
#endif

#endif /* TINYML_BOARD_H */
