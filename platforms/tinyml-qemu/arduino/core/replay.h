/*
 * replay.h: recorded sensor data for the emulated devices.
 *
 * `tinyml flash DIR --replay FILE.csv` checks the CSV on the host and turns it into a small
 * blob that QEMU loads into the board's PSRAM at REPLAY_ADDRESS (a `-device loader`, reloaded
 * on every reset), so the firmware reads it like memory — no host I/O at run time, nothing
 * rebuilt. Layout (little-endian; written by tinyml_lsp/deploy/replay.py):
 *
 *   "TMLREPL1"  u32 streams                                     (header, 12 bytes)
 *   per stream: char device[16]  u32 columns  u32 rows  u32 offset   (28 bytes)
 *   at offset:  rows * columns int32 values, row by row
 *
 * With no replay the PSRAM holds zeros and replay_find() finds nothing.
 */
#pragma once

#include <stdint.h>

#define REPLAY_ADDRESS 0x21000000u

namespace emulated {

struct ReplayStream {
    uint32_t columns;
    uint32_t rows;
    const int32_t *values;  // rows * columns
    int32_t at(uint32_t row, uint32_t column) const { return values[row * columns + column]; }
};

// The stream recorded for `device` (e.g. "apds9960"); false when there is none.
bool replay_find(const char *device, ReplayStream *stream);

}  // namespace emulated
