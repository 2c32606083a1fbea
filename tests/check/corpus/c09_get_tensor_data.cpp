// model: hello_world_float
// The micro kernels' GetTensorData helper on a float model.
#include "model_data.h"
#include "tensorflow/lite/kernels/internal/tensor_ctypes.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

alignas(16) unsigned char arena[3000];

float predict(float x) {
  static tflite::MicroMutableOpResolver<1> resolver;
  resolver.AddFullyConnected();
  static tflite::MicroInterpreter interpreter(tflite::GetModel(g_model), resolver, arena,
                                              sizeof(arena));
  interpreter.AllocateTensors();
  float* in = tflite::GetTensorData<float>(interpreter.input(0));
  in[0] = x;
  interpreter.Invoke();
  return tflite::GetTensorData<float>(interpreter.output(0))[0];
}
