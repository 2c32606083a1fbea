// model: micro_speech_quantized
// Generated-style plain C++: every op checked, the arena from the exported header.
#include <cstdio>
#include <cstdint>

#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/schema/schema_generated.h"

static uint8_t tensor_arena[g_model_arena_size + 2048] __attribute__((aligned(16)));

int main() {
  const tflite::Model* model = tflite::GetModel(g_model);
  tflite::MicroMutableOpResolver<4> op_resolver;
  if (op_resolver.AddDepthwiseConv2D() != kTfLiteOk) return 1;
  if (op_resolver.AddFullyConnected() != kTfLiteOk) return 1;
  if (op_resolver.AddSoftmax() != kTfLiteOk) return 1;
  if (op_resolver.AddReshape() != kTfLiteOk) return 1;
  tflite::MicroInterpreter interpreter(model, op_resolver, tensor_arena, sizeof(tensor_arena));
  if (interpreter.AllocateTensors() != kTfLiteOk) return 1;
  TfLiteTensor* input = interpreter.input(0);
  for (int i = 0; i < 1960; ++i) {
    input->data.int8[i] = static_cast<int8_t>(i % 256 - 128);
  }
  if (interpreter.Invoke() != kTfLiteOk) return 1;
  TfLiteTensor* output = interpreter.output(0);
  int best = 0;
  for (int i = 1; i < 4; ++i) {
    if (output->data.int8[i] > output->data.int8[best]) best = i;
  }
  float score = (output->data.int8[best] - output->params.zero_point) * output->params.scale;
  printf("class %d score %f\n", best, score);
  return 0;
}
