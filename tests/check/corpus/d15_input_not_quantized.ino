// model: hello_world_int8
#include <TensorFlowLite.h>
#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

uint8_t tensor_arena[3 * 1024];
tflite::MicroInterpreter* interpreter;
TfLiteTensor* input;

void setup() {
  static tflite::MicroMutableOpResolver<1> resolver;
  resolver.AddFullyConnected();
  static tflite::MicroInterpreter i(tflite::GetModel(g_model), resolver, tensor_arena,
                                    sizeof(tensor_arena));
  interpreter = &i;
  interpreter->AllocateTensors();
  input = interpreter->input(0);
}

void loop() {
  float x = (millis() % 6283) / 1000.0f;
  input->data.int8[0] = x;  // <- tinyml/input-quantization "x"
  interpreter->Invoke();
}
