// model: hello_world_float
// A float model: data.f through auto, a reference and a pointer alias.
#include <cmath>
#include <cstdio>
#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

constexpr size_t kArenaBytes = 4096;
alignas(16) static uint8_t g_arena[kArenaBytes];

int main() {
  tflite::MicroMutableOpResolver<1> resolver;
  resolver.AddFullyConnected();
  tflite::MicroInterpreter interpreter(tflite::GetModel(g_model), resolver, g_arena,
                                       kArenaBytes);
  interpreter.AllocateTensors();
  auto* in = interpreter.input(0);
  TfLiteTensor& out = *interpreter.output(0);
  float* values = in->data.f;
  for (int step = 0; step < 10; ++step) {
    values[0] = step * 0.628f;
    interpreter.Invoke();
    float y = out.data.f[0];
    printf("%f %f\n", values[0], y);
  }
  return 0;
}
