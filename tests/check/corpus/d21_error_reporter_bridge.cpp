// model: hello_world_int8
#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/micro/tflite_bridge/micro_error_reporter.h"

static uint8_t tensor_arena[3 * 1024];

int main() {
  static tflite::MicroErrorReporter reporter;  // <- tinyml/removed-api "static tflite::MicroErrorReporter reporter;" warning
  tflite::MicroMutableOpResolver<1> resolver;
  resolver.AddFullyConnected();
  tflite::MicroInterpreter interpreter(tflite::GetModel(g_model), resolver, tensor_arena,
                                       sizeof(tensor_arena));
  if (interpreter.AllocateTensors() != kTfLiteOk) {
    reporter.Report("AllocateTensors() failed");
    return 1;
  }
  return 0;
}
