// model: micro_speech_quantized
#include <TensorFlowLite.h>
#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

uint8_t tensor_arena[10 * 1024];
tflite::MicroInterpreter* interpreter;

void setup() {
  Serial.begin(115200);
  static tflite::MicroMutableOpResolver<4> resolver;
  resolver.AddDepthwiseConv2D();
  resolver.AddFullyConnected();
  resolver.AddSoftmax();
  resolver.AddReshape();
  static tflite::MicroInterpreter i(tflite::GetModel(g_model), resolver, tensor_arena,
                                    sizeof(tensor_arena));
  interpreter = &i;
  interpreter->AllocateTensors();
}

void loop() {
  interpreter->Invoke();
  float* scores = interpreter->typed_output_tensor<float>(0);  // <- tinyml/accessor-type "typed_output_tensor<float>" nofix
  Serial.println(scores[0]);
}
