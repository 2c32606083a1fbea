/*
 * startup.c: vector table and reset handler for the Cortex-M4F of QEMU's mps2-an386.
 *
 * Reset: enable the FPU (the firmware is built for the hard-float ABI, so any function may use
 * FP registers), copy .data from flash, clear .bss, set up the board, run the C/C++
 * constructors, call main(), and end in board_exit() with its status.
 * Faults and unexpected interrupts print a `TINYML ERROR` line the monitor understands, then
 * stop the board, instead of spinning silently.
 */
#include <stdint.h>
#include <stdio.h>

#include "tinyml_board.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
extern int main(void);
extern void __libc_init_array(void);

void Reset_Handler(void);
void board_start(void);
void Default_Handler(void);
void HardFault_Handler(void);

#define WEAK_DEFAULT __attribute__((weak, alias("Default_Handler")))
void NMI_Handler(void) WEAK_DEFAULT;
void MemManage_Handler(void) WEAK_DEFAULT;
void BusFault_Handler(void) WEAK_DEFAULT;
void UsageFault_Handler(void) WEAK_DEFAULT;
void SVC_Handler(void) WEAK_DEFAULT;
void DebugMon_Handler(void) WEAK_DEFAULT;
void PendSV_Handler(void) WEAK_DEFAULT;
void SysTick_Handler(void) WEAK_DEFAULT;
/* the external interrupts a firmware of this board might use (QEMU hw/arm/mps2.c) */
void UART0RX_IRQHandler(void) WEAK_DEFAULT;   /* IRQ 0 */
void UART0TX_IRQHandler(void) WEAK_DEFAULT;   /* IRQ 1 */
void TIMER0_IRQHandler(void) WEAK_DEFAULT;    /* IRQ 8 */
void TIMER1_IRQHandler(void) WEAK_DEFAULT;    /* IRQ 9 */
void DUALTIMER_IRQHandler(void) WEAK_DEFAULT; /* IRQ 10 */

typedef void (*vector_t)(void);

/* 16 system exceptions + the 32 external interrupts of mps2-an386 */
__attribute__((section(".isr_vector"), used)) const vector_t vector_table[16 + 32] = {
    [0] = (vector_t)&_estack,
    [1] = Reset_Handler,
    [2] = NMI_Handler,
    [3] = HardFault_Handler,
    [4] = MemManage_Handler,
    [5] = BusFault_Handler,
    [6] = UsageFault_Handler,
    [11] = SVC_Handler,
    [12] = DebugMon_Handler,
    [14] = PendSV_Handler,
    [15] = SysTick_Handler,
    [16 + 0] = UART0RX_IRQHandler,
    [16 + 1] = UART0TX_IRQHandler,
    [16 + 2 ... 16 + 7] = Default_Handler,
    [16 + 8] = TIMER0_IRQHandler,
    [16 + 9] = TIMER1_IRQHandler,
    [16 + 10] = DUALTIMER_IRQHandler,
    [16 + 11 ... 16 + 31] = Default_Handler,
};

/* Enable CP10/CP11 (the FPU) in CPACR before any compiled code can touch an FP register. */
__attribute__((naked, noreturn)) void Reset_Handler(void)
{
    __asm volatile(
        "movw r0, #0xED88\n"
        "movt r0, #0xE000\n"
        "ldr  r1, [r0]\n"
        "orr  r1, r1, #(0xF << 20)\n"
        "str  r1, [r0]\n"
        "dsb\n"
        "isb\n"
        "b    board_start\n");
}

__attribute__((noreturn, used)) void board_start(void)
{
    uint32_t *src = &_sidata;
    for (uint32_t *dst = &_sdata; dst < &_edata;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = &_sbss; dst < &_ebss;) {
        *dst++ = 0;
    }
    board_init();
    __libc_init_array();
    board_exit(main());
}

static void print_hex(const char *name, uint32_t value)
{
    static const char digits[] = "0123456789abcdef";
    for (const char *p = name; *p; p++) {
        board_putc(*p);
    }
    board_putc('0');
    board_putc('x');
    for (int shift = 28; shift >= 0; shift -= 4) {
        board_putc(digits[(value >> shift) & 0xFu]);
    }
}

static void print_str(const char *s)
{
    for (; *s; s++) {
        board_putc(*s);
    }
}

/* Unbuffered on purpose: after a fault, stdio's state cannot be trusted. */
__attribute__((noreturn)) static void fault_report(const char *what, const uint32_t *frame)
{
    uint32_t ipsr;
    __asm volatile("mrs %0, ipsr" : "=r"(ipsr));
    board_init();
    print_str("\r\nTINYML ERROR ");
    print_str(what);
    print_hex(" exception=", ipsr & 0x1FFu);
    if (frame != 0) {
        print_hex(" pc=", frame[6]);
        print_hex(" lr=", frame[5]);
    }
    print_hex(" cfsr=", *(volatile uint32_t *)0xE000ED28u);
    print_str("\r\n");
    board_halt();
}

__attribute__((used)) void hard_fault_c(const uint32_t *frame)
{
    fault_report("hard fault", frame);
}

/* Hand the stacked exception frame (MSP or PSP, per EXC_RETURN bit 2) to hard_fault_c. */
__attribute__((naked)) void HardFault_Handler(void)
{
    __asm volatile(
        "tst   lr, #4\n"
        "ite   eq\n"
        "mrseq r0, msp\n"
        "mrsne r0, psp\n"
        "b     hard_fault_c\n");
}

void Default_Handler(void)
{
    fault_report("unexpected exception", 0);
}
