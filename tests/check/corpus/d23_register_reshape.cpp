// model: micro_speech_quantized
#include <cstdint>
#include "model_data.h"
#include "tensorflow/lite/micro/kernels/micro_ops.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

static uint8_t tensor_arena[10 * 1024];

int main() {
  static tflite::MicroMutableOpResolver<4> resolver;
  resolver.AddDepthwiseConv2D();
  resolver.AddFullyConnected();
  resolver.AddSoftmax();
  resolver.AddBuiltin(tflite::BuiltinOperator_RESHAPE,
                      tflite::ops::micro::Register_RESHAPE());  // <- tinyml/removed-api "tflite::ops::micro::Register_RESHAPE()" warning
  tflite::MicroInterpreter interpreter(tflite::GetModel(g_model), resolver, tensor_arena,
                                       sizeof(tensor_arena));
  return interpreter.AllocateTensors() == kTfLiteOk ? 0 : 1;
}
