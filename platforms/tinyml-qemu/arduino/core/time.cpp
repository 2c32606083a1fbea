/*
 * time.cpp: millis(), micros(), delay() from timer 0 of the emulated board.
 *
 * Under QEMU's `-icount shift=0,sleep=off` one instruction is one nanosecond of virtual time
 * and the 25 MHz timer ticks every 40 instructions, so these readings are exact and identical
 * from run to run. Timer 0 runs free over 32 bits (board.c); its wrap interrupt extends it to
 * 64 bits, so millis() wraps after 49 days like on any Arduino, not after 171 s.
 * delay() sleeps in WFI until timer 1 fires: with `sleep=off` QEMU then jumps virtual time to
 * that deadline, so a long delay costs no host time and stays exact.
 */
#include "Arduino.h"
#include "tinyml_board.h"

namespace {

struct CmsdkTimer {
    volatile uint32_t CTRL;  // bit 0: enable, bit 3: interrupt enable
    volatile uint32_t VALUE;
    volatile uint32_t RELOAD;
    volatile uint32_t INTSTATUS;  // write 1 to clear
};

CmsdkTimer *const timer0 = reinterpret_cast<CmsdkTimer *>(0x40000000u);
CmsdkTimer *const timer1 = reinterpret_cast<CmsdkTimer *>(0x40001000u);
volatile uint32_t *const nvic_iser0 = reinterpret_cast<volatile uint32_t *>(0xE000E100u);
constexpr uint32_t kTimer0Irq = 8;
constexpr uint32_t kTimer1Irq = 9;
constexpr uint32_t kTicksPerUs = BOARD_TIMER_HZ / 1000000u;

volatile uint32_t wraps;  // times timer 0 went through zero

uint64_t ticks64()
{
    uint32_t primask;
    __asm volatile("mrs %0, primask\n cpsid i" : "=r"(primask)::"memory");
    uint32_t low = board_ticks();
    uint32_t high = wraps;
    if (timer0->INTSTATUS & 1u) {  // wrapped, handler not run yet
        low = board_ticks();
        high++;
    }
    __asm volatile("msr primask, %0" ::"r"(primask) : "memory");
    return (static_cast<uint64_t>(high) << 32) | low;
}

void wait_ticks(uint64_t ticks)
{
    const uint64_t deadline = ticks64() + ticks;
    for (;;) {
        const uint64_t now = ticks64();
        if (now >= deadline) {
            return;
        }
        const uint64_t left = deadline - now;
        if (left < 64) {  // shorter than arming the timer: spin
            continue;
        }
        timer1->CTRL = 0;
        timer1->RELOAD = 0xFFFFFFFFu;
        timer1->VALUE = left > 0xFFFFFFFFu ? 0xFFFFFFFFu : static_cast<uint32_t>(left);
        timer1->INTSTATUS = 1u;
        timer1->CTRL = 1u | 8u;
        __asm volatile("wfi" ::: "memory");  // any interrupt wakes us: loop and check
    }
}

}  // namespace

extern "C" void TIMER0_IRQHandler(void)
{
    timer0->INTSTATUS = 1u;
    wraps = wraps + 1;
}

extern "C" void TIMER1_IRQHandler(void)
{
    timer1->CTRL = 0;
    timer1->INTSTATUS = 1u;
}

void init(void)
{
    board_init();
    timer0->INTSTATUS = 1u;
    timer0->CTRL = 1u | 8u;  // keep counting, interrupt on wrap
    *nvic_iser0 = (1u << kTimer0Irq) | (1u << kTimer1Irq);
    __asm volatile("cpsie i" ::: "memory");
}

unsigned long millis(void)
{
    return static_cast<unsigned long>(ticks64() / (BOARD_TIMER_HZ / 1000u));
}

unsigned long micros(void)
{
    return static_cast<unsigned long>(ticks64() / kTicksPerUs);
}

void delay(unsigned long ms)
{
    wait_ticks(static_cast<uint64_t>(ms) * (BOARD_TIMER_HZ / 1000u));
}

void delayMicroseconds(unsigned int us)
{
    wait_ticks(static_cast<uint64_t>(us) * kTicksPerUs);
}

void yield(void) {}
