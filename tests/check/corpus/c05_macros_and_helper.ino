// model: hello_world_int8
// Macros everywhere, and a quantize helper that applies the scale and zero point.
#include <TensorFlowLite.h>
#include <math.h>
#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

#define ARENA_BYTES (2 * 1024)
#define OP_COUNT 1
#define IN_T interpreter->input(0)
#define OUT_Q interpreter->output(0)->data.int8

static uint8_t tensor_arena[ARENA_BYTES];
static tflite::MicroInterpreter* interpreter;

static int8_t quantize(float v, const TfLiteTensor* t) {
  return (int8_t)fmaxf(-128.0f, fminf(127.0f, roundf(v / t->params.scale) + t->params.zero_point));
}

void setup() {
  Serial.begin(115200);
  static tflite::MicroMutableOpResolver<OP_COUNT> resolver;
  resolver.AddFullyConnected();
  static tflite::MicroInterpreter interp(tflite::GetModel(g_model), resolver, tensor_arena,
                                         ARENA_BYTES);
  interpreter = &interp;
  interpreter->AllocateTensors();
}

void loop() {
  float x = millis() / 1000.0f;
  IN_T->data.int8[0] = quantize(x, IN_T);
  interpreter->Invoke();
  int8_t q = OUT_Q[0];
  Serial.println((q - interpreter->output(0)->params.zero_point) *
                 interpreter->output(0)->params.scale);
}
