// model: person_detect
// Hand-written: camera bytes shifted to int8 (the model's zero point), output dequantized.
#include <TensorFlowLite.h>
#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

const int kArena = 96 * 1024;
static uint8_t arena[kArena];
static uint8_t image[96 * 96];
tflite::MicroInterpreter *interp;

void setup() {
  Serial.begin(9600);
  static tflite::MicroMutableOpResolver<5> ops;
  ops.AddAveragePool2D();
  ops.AddConv2D();
  ops.AddDepthwiseConv2D();
  ops.AddReshape();
  ops.AddSoftmax();
  static tflite::MicroInterpreter i(tflite::GetModel(g_model), ops, arena, kArena);
  interp = &i;
  interp->AllocateTensors();
}

void loop() {
  TfLiteTensor *in = interp->input(0);
  for (int p = 0; p < 96 * 96; p++) in->data.int8[p] = image[p] - 128;
  interp->Invoke();
  TfLiteTensor *out = interp->output(0);
  int8_t person = out->data.int8[1];
  float p = (person - out->params.zero_point) * out->params.scale;
  if (p > 0.6f) Serial.println("person");
}
