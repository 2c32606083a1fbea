// model: person_detect
#include <cstdint>
#include <cstdio>
#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

static uint8_t tensor_arena[96 * 1024];

int main() {
  static tflite::MicroMutableOpResolver<5> resolver;
  resolver.AddAveragePool2D();
  resolver.AddConv2D();
  resolver.AddDepthwiseConv2D();
  resolver.AddReshape();
  resolver.AddSoftmax();
  static tflite::MicroInterpreter interpreter(tflite::GetModel(g_model), resolver,
                                              tensor_arena, sizeof(tensor_arena));
  interpreter.AllocateTensors();
  interpreter.Invoke();
  TfLiteTensor* output = interpreter.output(0);
  if (output->data.int8[1] > 0.6f) {  // <- tinyml/output-dequantize "output->data.int8[1]"
    puts("person");
  }
  return 0;
}
