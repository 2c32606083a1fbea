// model: hello_world_int8
#include <TensorFlowLite.h>
#include "model_data.h"
#include "tensorflow/lite/micro/all_ops_resolver.h"
#include "tensorflow/lite/micro/micro_interpreter.h"

uint8_t tensor_arena[3 * 1024];
tflite::AllOpsResolver resolver;  // <- tinyml/removed-api "tflite::AllOpsResolver resolver;" warning
tflite::MicroInterpreter* interpreter;

void setup() {
  Serial.begin(115200);
  static tflite::MicroInterpreter i(tflite::GetModel(g_model), resolver, tensor_arena,
                                    sizeof(tensor_arena));
  interpreter = &i;
  interpreter->AllocateTensors();
}

void loop() {}
