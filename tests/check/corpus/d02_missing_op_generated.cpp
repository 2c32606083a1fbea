// model: person_detect
#include <cstdint>
#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

alignas(16) static uint8_t tensor_arena[96 * 1024];

int main() {
  const tflite::Model* model = tflite::GetModel(g_model);
  tflite::MicroMutableOpResolver<5> resolver;  // <- tinyml/missing-op "resolver"
  if (resolver.AddConv2D() != kTfLiteOk) return 1;
  if (resolver.AddDepthwiseConv2D() != kTfLiteOk) return 1;
  if (resolver.AddReshape() != kTfLiteOk) return 1;
  if (resolver.AddSoftmax() != kTfLiteOk) return 1;
  tflite::MicroInterpreter interpreter(model, resolver, tensor_arena, sizeof(tensor_arena));
  if (interpreter.AllocateTensors() != kTfLiteOk) return 2;
  return 0;
}
