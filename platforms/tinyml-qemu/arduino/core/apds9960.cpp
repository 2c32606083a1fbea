/* apds9960.cpp: the emulated APDS-9960 (see apds9960.h; registers from Broadcom's datasheet). */
#include "apds9960.h"

#include "core.h"
#include "tinyml_board.h"

namespace emulated {

namespace {

constexpr uint8_t kEnable = 0x80;   // PON 0x01, AEN 0x02, PEN 0x04, WEN 0x08, GEN 0x40
constexpr uint8_t kId = 0x92;
constexpr uint8_t kStatus = 0x93;   // AVALID 0x01, PVALID 0x02
constexpr uint8_t kCdatal = 0x94;   // CDATAL..BDATAH: clear, red, green, blue (16-bit LE)
constexpr uint8_t kBdatah = 0x9B;
constexpr uint8_t kPdata = 0x9C;
constexpr uint8_t kGstatus = 0xAF;  // GVALID 0x01: never (no gestures recorded)
constexpr uint8_t kAen = 0x02;
constexpr uint8_t kPen = 0x04;
constexpr uint32_t kColumns = 5;    // red, green, blue, clear, proximity

}  // namespace

void Apds9960::load()
{
    if (loaded_) {
        return;
    }
    loaded_ = true;
    if (!replay_find("apds9960", &replay_) || replay_.columns != kColumns) {
        core_fail("APDS-9960 at I2C 0x39 on Wire1 has no readings to replay: flash the board "
                  "with `tinyml flash DIR --replay READINGS.csv`");
    }
    if (replay_.rows == 0) {
        core_fail("APDS-9960 at I2C 0x39 on Wire1: the replay holds no readings");
    }
}

void Apds9960::next_reading()
{
    row_++;
    phase_ = Phase::kNear;
    if (row_ >= replay_.rows) {
        core_event("REPLAY END device=apds9960 readings=%lu",
                   static_cast<unsigned long>(replay_.rows));
        board_exit(0);
    }
}

uint16_t Apds9960::channel(uint32_t column) const
{
    return static_cast<uint16_t>(replay_.at(row_, column));
}

void Apds9960::on_status_read()
{
    load();
    // a sketch asking for colour again (AEN set) after the object left, or after it took
    // this reading without ever looking at proximity, gets the next reading
    if ((regs_[kEnable] & kAen) &&
        (phase_ == Phase::kLeft || (phase_ == Phase::kTaken && !(regs_[kEnable] & kPen)))) {
        next_reading();
    }
}

uint8_t Apds9960::on_pdata_read()
{
    load();
    switch (phase_) {
    case Phase::kNear:
        break;
    case Phase::kTaken:
        phase_ = Phase::kLeaving;
        break;
    case Phase::kLeaving:
        phase_ = Phase::kLeft;
        return 0;
    case Phase::kLeft:
        next_reading();
        break;
    }
    return static_cast<uint8_t>(255 - replay_.at(row_, 4));
}

void Apds9960::begin_read(uint8_t first, size_t len)
{
    (void)len;
    if (first != kCdatal) {
        return;
    }
    load();
    if (phase_ == Phase::kLeft || phase_ == Phase::kLeaving) {
        next_reading();
    }
    // clear, red, green, blue: the CSV's columns 3, 0, 1, 2
    static const uint32_t order[4] = {3, 0, 1, 2};
    for (unsigned i = 0; i < 4; i++) {
        const uint16_t value = channel(order[i]);
        latched_[2 * i] = static_cast<uint8_t>(value & 0xFF);
        latched_[2 * i + 1] = static_cast<uint8_t>(value >> 8);
    }
    phase_ = Phase::kTaken;
}

uint8_t Apds9960::read_register(uint8_t reg)
{
    switch (reg) {
    case kId:
        return 0xAB;
    case kStatus: {
        on_status_read();
        uint8_t status = 0;
        if ((regs_[kEnable] & kAen) && phase_ == Phase::kNear) {
            status |= 0x01;
        }
        if (regs_[kEnable] & kPen) {
            status |= 0x02;
        }
        return status;
    }
    case kPdata:
        return on_pdata_read();
    case kGstatus:
        return 0;
    default:
        if (reg >= kCdatal && reg <= kBdatah) {
            return latched_[reg - kCdatal];
        }
        return regs_[reg];
    }
}

void Apds9960::write_register(uint8_t reg, uint8_t value)
{
    regs_[reg] = value;
}

}  // namespace emulated
