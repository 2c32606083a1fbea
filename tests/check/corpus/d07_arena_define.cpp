// model: person_detect
#include <cstdint>
#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

#define ARENA_SIZE (40 * 1024)  // <- tinyml/arena-too-small "(40 * 1024)"
static uint8_t arena_buf[ARENA_SIZE];

int main() {
  tflite::MicroMutableOpResolver<5> ops;
  ops.AddAveragePool2D();
  ops.AddConv2D();
  ops.AddDepthwiseConv2D();
  ops.AddReshape();
  ops.AddSoftmax();
  tflite::MicroInterpreter interpreter(tflite::GetModel(g_model), ops, arena_buf, ARENA_SIZE);
  return interpreter.AllocateTensors() == kTfLiteOk ? 0 : 1;
}
