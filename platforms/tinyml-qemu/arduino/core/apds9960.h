/*
 * apds9960.h: an emulated APDS-9960 (Broadcom's colour / proximity / gesture sensor of the
 * Nano 33 BLE Sense), at the register level, so the unmodified Arduino_APDS9960 library drives
 * it. Its readings are replayed (stream "apds9960": columns red, green, blue, clear,
 * proximity — proximity being what readProximity() returns while the object is near).
 *
 * Each replayed reading is an object that approaches and leaves, paced by what the sketch
 * reads, not by time, so any sketch steps through the file reading by reading:
 *   NEAR     the object is close (PDATA = 255 - proximity): colour data valid (AVALID);
 *   TAKEN    the sketch has read the colour; proximity still reads near;
 *   LEAVING  the sketch has seen it near after the colour: the next proximity reads far (0);
 *   LEFT     it has gone: the next request for data (colour status, colour or proximity)
 *            brings the next reading.
 * A sketch that reads only colours gets the next reading when it asks for colour again after
 * taking one. After the last reading has left, the board reports
 * `TINYML REPLAY END device=apds9960 readings=N` and ends the run (exit status 0).
 */
#pragma once

#include "emulated_i2c.h"
#include "replay.h"

namespace emulated {

class Apds9960 : public RegisterDevice {
  public:
    static constexpr uint8_t kAddress = 0x39;
    const char *name() const override { return "APDS-9960"; }

  protected:
    uint8_t read_register(uint8_t reg) override;
    void write_register(uint8_t reg, uint8_t value) override;
    void begin_read(uint8_t first, size_t len) override;

  private:
    enum class Phase { kNear, kTaken, kLeaving, kLeft };
    void load();
    void next_reading();
    uint16_t channel(uint32_t column) const;
    void on_status_read();
    uint8_t on_pdata_read();

    uint8_t regs_[256] = {};
    bool loaded_ = false;
    ReplayStream replay_{};
    uint32_t row_ = 0;
    Phase phase_ = Phase::kNear;
    uint8_t latched_[8] = {};  // CDATAL..BDATAH, latched when a read starts at CDATAL
};

}  // namespace emulated
