// model: micro_speech_quantized
#include <cstdint>
#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

uint8_t tensor_arena[7 * 1024];  // <- tinyml/arena-too-small "7 * 1024" warning

int main() {
  tflite::MicroMutableOpResolver<4> resolver;
  resolver.AddDepthwiseConv2D();
  resolver.AddFullyConnected();
  resolver.AddSoftmax();
  resolver.AddReshape();
  tflite::MicroInterpreter interpreter(tflite::GetModel(g_model), resolver, tensor_arena,
                                       sizeof(tensor_arena));
  return interpreter.AllocateTensors() == kTfLiteOk ? 0 : 1;
}
