// model: micro_speech_quantized
#include <cstdint>
#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

static uint8_t tensor_arena[10 * 1024];
static uint8_t feature_buffer[1960];

int run() {
  static tflite::MicroMutableOpResolver<4> resolver;
  resolver.AddDepthwiseConv2D();
  resolver.AddFullyConnected();
  resolver.AddSoftmax();
  resolver.AddReshape();
  static tflite::MicroInterpreter interpreter(tflite::GetModel(g_model), resolver,
                                              tensor_arena, sizeof(tensor_arena));
  interpreter.AllocateTensors();
  TfLiteTensor* input = interpreter.input(0);
  int8_t* features = input->data.int8;
  for (int i = 0; i < 1960; ++i) {
    features[i] = feature_buffer[i] / 255.0f;  // <- tinyml/input-quantization "feature_buffer[i] / 255.0f"
  }
  return interpreter.Invoke() == kTfLiteOk ? 0 : 1;
}

int main() { return run(); }
