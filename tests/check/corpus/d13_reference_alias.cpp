// model: hello_world_float
#include <cstdio>
#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

static uint8_t tensor_arena[3 * 1024];

int main() {
  static tflite::MicroMutableOpResolver<1> resolver;
  resolver.AddFullyConnected();
  static tflite::MicroInterpreter interpreter(tflite::GetModel(g_model), resolver,
                                              tensor_arena, sizeof(tensor_arena));
  interpreter.AllocateTensors();
  TfLiteTensor& in = *interpreter.input(0);
  in.data.int8[0] = 3;  // <- tinyml/accessor-type "in.data.int8"
  interpreter.Invoke();
  printf("%f\n", interpreter.output(0)->data.f[0]);
  return 0;
}
