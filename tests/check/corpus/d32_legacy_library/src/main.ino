// model: hello_world_int8
#include <TensorFlowLite.h>
#include "model_data.h"
#include "tensorflow/lite/micro/kernels/micro_ops.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

uint8_t tensor_arena[3 * 1024];
tflite::MicroInterpreter* interpreter;

void setup() {
  static tflite::MicroMutableOpResolver<1> resolver;
  resolver.AddBuiltin(tflite::BuiltinOperator_FULLY_CONNECTED, tflite::ops::micro::Register_FULLY_CONNECTED());  // <- tinyml/removed-api "tflite::ops::micro::Register_FULLY_CONNECTED()" warning
  static tflite::MicroInterpreter i(tflite::GetModel(g_model), resolver, tensor_arena,
                                    sizeof(tensor_arena));
  interpreter = &i;
  interpreter->AllocateTensors();
}

void loop() {}
