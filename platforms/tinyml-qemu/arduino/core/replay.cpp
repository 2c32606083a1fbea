/* replay.cpp: finding a device's stream in the replay blob (layout in replay.h). */
#include "replay.h"

#include <string.h>

namespace emulated {

namespace {

struct Header {
    char magic[8];
    uint32_t streams;
};

struct StreamEntry {
    char device[16];
    uint32_t columns;
    uint32_t rows;
    uint32_t offset;
};

}  // namespace

bool replay_find(const char *device, ReplayStream *stream)
{
    const uint8_t *base = reinterpret_cast<const uint8_t *>(REPLAY_ADDRESS);
    const Header *header = reinterpret_cast<const Header *>(base);
    if (memcmp(header->magic, "TMLREPL1", 8) != 0) {
        return false;
    }
    const StreamEntry *entries = reinterpret_cast<const StreamEntry *>(base + sizeof(Header));
    for (uint32_t i = 0; i < header->streams; i++) {
        if (strncmp(entries[i].device, device, sizeof entries[i].device) == 0) {
            stream->columns = entries[i].columns;
            stream->rows = entries[i].rows;
            stream->values = reinterpret_cast<const int32_t *>(base + entries[i].offset);
            return true;
        }
    }
    return false;
}

}  // namespace emulated
