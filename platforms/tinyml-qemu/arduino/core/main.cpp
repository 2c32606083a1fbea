/* main.cpp: what every Arduino core's main() does — set up the board, setup(), loop() forever. */
#include "Arduino.h"

void init(void);  // time.cpp: the millisecond clock

// Weak, as in the official cores: a sketch may define its own.
void initVariant(void) __attribute__((weak));
void initVariant(void) {}

// Weak too, as in STM32duino's core: a plain C++ program with its own main() builds and runs
// on the board (the library and Serial work; setup() and loop() are then not needed).
int main(void) __attribute__((weak));
int main(void)
{
    init();
    initVariant();
    setup();
    for (;;) {
        loop();
        if (arduino::serialEventRun) {
            arduino::serialEventRun();
        }
    }
    return 0;
}
