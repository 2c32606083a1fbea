// model: hello_world_int8
#include <TensorFlowLite.h>
#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

constexpr int kTensorArenaSize = 512;  // <- tinyml/arena-too-small "512" error
alignas(16) uint8_t tensor_arena[kTensorArenaSize];
tflite::MicroInterpreter* interpreter;

void setup() {
  Serial.begin(9600);
  static tflite::MicroMutableOpResolver<1> resolver;
  resolver.AddFullyConnected();
  static tflite::MicroInterpreter i(tflite::GetModel(g_model), resolver, tensor_arena,
                                    kTensorArenaSize);
  interpreter = &i;
  if (interpreter->AllocateTensors() != kTfLiteOk) Serial.println("arena too small?");
}

void loop() {}
