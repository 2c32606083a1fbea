/* main.cpp: what every Arduino core's main() does — set up the board, setup(), loop() forever. */
#include "Arduino.h"

void init(void);  // time.cpp: the millisecond clock

// Weak, as in the official cores: a sketch may define its own.
void initVariant(void) __attribute__((weak));
void initVariant(void) {}

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
