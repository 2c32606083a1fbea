// model: hello_world_int8
// A colour sketch whose model was trained on ratios (features.toml): bytes / 255 is wrong.
#include <Arduino_APDS9960.h>
#include <TensorFlowLite.h>
#include <math.h>
#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

alignas(16) uint8_t tensor_arena[3 * 1024];
tflite::MicroInterpreter* interpreter;

void setup() {
  Serial.begin(115200);
  APDS.begin();
  static tflite::MicroMutableOpResolver<1> resolver;
  resolver.AddFullyConnected();
  static tflite::MicroInterpreter i(tflite::GetModel(g_model), resolver, tensor_arena,
                                    sizeof(tensor_arena));
  interpreter = &i;
  interpreter->AllocateTensors();
}

void loop() {
  int r, g, b, c;
  if (!APDS.colorAvailable()) return;
  APDS.readColor(r, g, b, c);
  float red = r / 255.0f;  // <- tinyml/preprocessing "r / 255.0f" nofix
  TfLiteTensor* input = interpreter->input(0);
  input->data.int8[0] = (int8_t)fmaxf(-128.0f, fminf(127.0f, roundf(red / input->params.scale) + input->params.zero_point));
  interpreter->Invoke();
}
