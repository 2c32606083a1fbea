// model: hello_world_int8
#include <TensorFlowLite.h>
#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

constexpr int kTensorArenaSize = 2048;
uint8_t tensor_arena[kTensorArenaSize];
tflite::MicroInterpreter* interpreter;

void setup() {
  static tflite::MicroMutableOpResolver<2> resolver;
  resolver.AddFullyConnected();
  resolver.AddSoftmax();  // <- tinyml/unused-op "AddSoftmax"
  static tflite::MicroInterpreter i(tflite::GetModel(g_model), resolver, tensor_arena,
                                    kTensorArenaSize);
  interpreter = &i;
  interpreter->AllocateTensors();
}

void loop() {}
