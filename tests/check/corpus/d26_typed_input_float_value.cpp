// model: hello_world_int8
#include <cmath>
#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

static uint8_t tensor_arena[3 * 1024];

int8_t predict(float x) {
  static tflite::MicroMutableOpResolver<1> resolver;
  resolver.AddFullyConnected();
  static tflite::MicroInterpreter interpreter(tflite::GetModel(g_model), resolver,
                                              tensor_arena, sizeof(tensor_arena));
  interpreter.AllocateTensors();
  int8_t* in = interpreter.typed_input_tensor<int8_t>(0);
  in[0] = 0.5f * x;  // <- tinyml/input-quantization "0.5f * x"
  interpreter.Invoke();
  return interpreter.typed_output_tensor<int8_t>(0)[0];
}
