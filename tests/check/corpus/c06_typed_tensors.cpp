// model: micro_speech_quantized
// typed_input_tensor / typed_output_tensor with the right types; scores kept as int8.
#include <cstdint>
#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

namespace {
constexpr int kOps = 4;
constexpr int kArenaSize = 10 * 1024;
uint8_t arena[kArenaSize];
}

int classify(const int8_t* features) {
  static tflite::MicroMutableOpResolver<kOps> resolver;
  resolver.AddDepthwiseConv2D();
  resolver.AddFullyConnected();
  resolver.AddSoftmax();
  resolver.AddReshape();
  static tflite::MicroInterpreter interpreter(tflite::GetModel(g_model), resolver, arena,
                                              kArenaSize);
  interpreter.AllocateTensors();
  int8_t* in = interpreter.typed_input_tensor<int8_t>(0);
  for (int i = 0; i < 1960; i++) in[i] = features[i];
  interpreter.Invoke();
  const int8_t* scores = interpreter.typed_output_tensor<int8_t>(0);
  int best = 0;
  for (int i = 1; i < 4; i++)
    if (scores[i] > scores[best]) best = i;
  return best;
}
