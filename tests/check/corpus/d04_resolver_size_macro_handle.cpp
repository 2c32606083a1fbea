// model: person_detect
#include <cstdint>
#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

#define NUM_OPS 4

static uint8_t tensor_arena[100 * 1024];

// a handle: it does not declare a second resolver
static void add_ops(tflite::MicroMutableOpResolver<NUM_OPS>* r) {
  r->AddAveragePool2D();
  r->AddConv2D();
  r->AddDepthwiseConv2D();
  r->AddReshape();
  r->AddSoftmax();
}

int main() {
  static tflite::MicroMutableOpResolver<NUM_OPS> op_resolver;  // <- tinyml/resolver-size "NUM_OPS"
  add_ops(&op_resolver);
  tflite::MicroInterpreter interpreter(tflite::GetModel(g_model), op_resolver, tensor_arena,
                                       sizeof(tensor_arena));
  return interpreter.AllocateTensors() == kTfLiteOk ? 0 : 1;
}
