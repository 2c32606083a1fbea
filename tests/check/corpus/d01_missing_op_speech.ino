// model: micro_speech_quantized
#include <TensorFlowLite.h>
#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

namespace {
tflite::MicroInterpreter* interpreter = nullptr;
constexpr int kTensorArenaSize = 10 * 1024;
uint8_t tensor_arena[kTensorArenaSize];
}  // namespace

void setup() {
  Serial.begin(115200);
  static tflite::MicroMutableOpResolver<4> micro_op_resolver;  // <- tinyml/missing-op "micro_op_resolver"
  micro_op_resolver.AddDepthwiseConv2D();
  micro_op_resolver.AddFullyConnected();
  micro_op_resolver.AddSoftmax();
  static tflite::MicroInterpreter static_interpreter(
      tflite::GetModel(g_model), micro_op_resolver, tensor_arena, kTensorArenaSize);
  interpreter = &static_interpreter;
  interpreter->AllocateTensors();
}

void loop() {
  interpreter->Invoke();
  TfLiteTensor* output = interpreter->output(0);
  int8_t yes = output->data.int8[2];
  Serial.println(yes);
}
