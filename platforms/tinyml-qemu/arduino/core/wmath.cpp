/* wmath.cpp: Arduino's random numbers (the cores implement them, not ArduinoCore-API). */
#include <stdlib.h>

#include "Arduino.h"

void randomSeed(unsigned long seed)
{
    if (seed != 0) {
        srand(seed);
    }
}

long random(long howbig)
{
    return howbig == 0 ? 0 : rand() % howbig;
}

long random(long howsmall, long howbig)
{
    return howsmall >= howbig ? howsmall : random(howbig - howsmall) + howsmall;
}
