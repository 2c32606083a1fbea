// model: micro_speech_quantized
#include <TensorFlowLite.h>
#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"

uint8_t tensor_arena[10 * 1024];
tflite::MicroInterpreter* interpreter;
const char* kLabels[] = {"silence", "unknown", "yes", "no"};

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
  TfLiteTensor* output = interpreter->output(0);
  for (int i = 0; i < 4; i++) {
    float score = output->data.int8[i];  // <- tinyml/output-dequantize "output->data.int8[i]"
    Serial.print(kLabels[i]);
    Serial.println(score);
  }
}
