/*
 * board.c: UART0 and timer 0 of QEMU's mps2-an386, and the end of a firmware.
 * Register layouts: Arm CMSDK technical reference manual (DDI0479), as QEMU 7.2 models them
 * (hw/char/cmsdk-apb-uart.c, hw/timer/cmsdk-apb-timer.c).
 */
#include <stdio.h>

#include "tinyml_board.h"

typedef struct {
    volatile uint32_t DATA;
    volatile uint32_t STATE;     /* bit 0: TX buffer full, bit 1: RX buffer full */
    volatile uint32_t CTRL;      /* bit 0: TX enable, bit 1: RX enable */
    volatile uint32_t INTSTATUS;
    volatile uint32_t BAUDDIV;   /* pclk / baud; QEMU ignores values below 16 */
} cmsdk_uart_t;

typedef struct {
    volatile uint32_t CTRL;      /* bit 0: enable */
    volatile uint32_t VALUE;     /* counts down at pclk */
    volatile uint32_t RELOAD;    /* loaded into VALUE when it reaches 0 */
    volatile uint32_t INTSTATUS;
} cmsdk_timer_t;

#define UART0 ((cmsdk_uart_t *)0x40004000u)
#define TIMER0 ((cmsdk_timer_t *)0x40000000u)
#define TIMER1 ((cmsdk_timer_t *)0x40001000u)
#define DUALTIMER1_CTRL (*(volatile uint32_t *)0x40002008u)
#define DUALTIMER2_CTRL (*(volatile uint32_t *)0x40002028u)
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)

#define UART_STATE_TXFULL 0x1u
#define UART_STATE_RXFULL 0x2u
#define UART_CTRL_TX_EN 0x1u
#define UART_CTRL_RX_EN 0x2u
#define BAUD_RATE 115200u

static int board_ready;

void board_init(void)
{
    if (board_ready) {
        return;
    }
    UART0->CTRL = 0;
    UART0->BAUDDIV = BOARD_TIMER_HZ / BAUD_RATE;
    UART0->CTRL = UART_CTRL_TX_EN | UART_CTRL_RX_EN;

    /* free-running down-counter over the full 32 bits, no interrupt */
    TIMER0->CTRL = 0;
    TIMER0->RELOAD = 0xFFFFFFFFu;
    TIMER0->VALUE = 0xFFFFFFFFu;
    TIMER0->CTRL = 1u;
    board_ready = 1;
}

uint32_t board_ticks(void)
{
    return 0xFFFFFFFFu - TIMER0->VALUE;
}

void board_putc(char c)
{
    while (UART0->STATE & UART_STATE_TXFULL) {
    }
    UART0->DATA = (uint8_t)c;
}

int board_getc(void)
{
    if (!(UART0->STATE & UART_STATE_RXFULL)) {
        return -1;
    }
    return (int)(UART0->DATA & 0xFFu);
}

void board_exit(int status)
{
    fflush(stdout);
    fflush(stderr);
    /* the end of the program is an event the monitor sees (docs/firmware.md §2): a firmware
       that stops without its DONE line must not leave the host waiting */
    printf("TINYML EXIT status=%d\n", status);
    fflush(stdout);
    board_halt();
}

void board_halt(void)
{
    while (UART0->STATE & UART_STATE_TXFULL) {
    }
    /* With `-icount sleep=off` QEMU does not sleep while the core waits: it jumps virtual time
       to the next timer deadline. Any running timer would turn the final WFI into a busy host
       loop, so stop them all. */
    TIMER0->CTRL = 0;
    TIMER1->CTRL = 0;
    DUALTIMER1_CTRL = 0;
    DUALTIMER2_CTRL = 0;
    SYST_CSR = 0;
    __asm volatile("cpsid i" ::: "memory");
    for (;;) {
        __asm volatile("wfi");
    }
}
