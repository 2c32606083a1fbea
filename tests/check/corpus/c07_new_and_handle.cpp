// model: person_detect
// The interpreter made with new; the ops registered through a reference to the resolver.
#include <cstdint>
#include <new>
#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

using Resolver = tflite::MicroMutableOpResolver<5>;

static uint8_t tensor_arena[100 * 1024];

static void register_ops(tflite::MicroMutableOpResolver<5>& r) {
  r.AddAveragePool2D();
  r.AddConv2D();
  r.AddDepthwiseConv2D();
  r.AddReshape();
  r.AddSoftmax();
}

int main() {
  static tflite::MicroMutableOpResolver<5> resolver;
  register_ops(resolver);
  tflite::MicroInterpreter* interpreter = new tflite::MicroInterpreter(
      tflite::GetModel(g_model), resolver, tensor_arena, sizeof(tensor_arena));
  interpreter->AllocateTensors();
  TfLiteTensor* output = interpreter->output(0);
  int8_t no_person = output->data.int8[0];
  int8_t person = output->data.int8[1];
  return person > no_person ? 1 : 0;
}
