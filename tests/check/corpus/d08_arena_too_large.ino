// model: hello_world_int8
// board: nano33ble
#include <TensorFlowLite.h>
#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

const int kArenaSize = 300 * 1024;  // <- tinyml/arena-too-large "300 * 1024"
uint8_t tensor_arena[kArenaSize];

void setup() {
  static tflite::MicroMutableOpResolver<1> resolver;
  resolver.AddFullyConnected();
  static tflite::MicroInterpreter interpreter(tflite::GetModel(g_model), resolver,
                                              tensor_arena, kArenaSize);
  interpreter.AllocateTensors();
}

void loop() {}
