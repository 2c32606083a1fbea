// model: hello_world_float
#include <cstdio>
#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

alignas(16) static uint8_t arena[4096];

int main() {
  tflite::MicroMutableOpResolver<1> resolver;
  resolver.AddFullyConnected();
  tflite::MicroInterpreter interpreter(tflite::GetModel(g_model), resolver, arena, 4096);
  interpreter.AllocateTensors();
  auto* in = interpreter.input(0);
  in->data.f[0] = 1.0f;
  interpreter.Invoke();
  auto* out = interpreter.output(0);
  printf("%d\n", out->data.uint8[0]);  // <- tinyml/accessor-type "out->data.uint8"
  return 0;
}
