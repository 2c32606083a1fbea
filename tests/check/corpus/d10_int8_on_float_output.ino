// model: hello_world_float
#include <TensorFlowLite.h>
#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

uint8_t tensor_arena[4 * 1024];
tflite::MicroInterpreter* interpreter;

void setup() {
  Serial.begin(115200);
  static tflite::MicroMutableOpResolver<1> resolver;
  resolver.AddFullyConnected();
  static tflite::MicroInterpreter i(tflite::GetModel(g_model), resolver, tensor_arena,
                                    sizeof(tensor_arena));
  interpreter = &i;
  interpreter->AllocateTensors();
}

void loop() {
  interpreter->input(0)->data.f[0] = 0.5f;
  interpreter->Invoke();
  TfLiteTensor* output = interpreter->output(0);
  Serial.println(output->data.int8[0]);  // <- tinyml/accessor-type "output->data.int8"
}
