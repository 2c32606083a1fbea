// model: micro_speech_quantized
#include <TensorFlowLite.h>
#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
static tflite::MicroMutableOpResolver<3>
    speech_ops;  // <- tinyml/missing-op "speech_ops"
uint8_t   tensor_arena[10*1024];
void setup(){speech_ops.AddDepthwiseConv2D();speech_ops.AddFullyConnected();
  speech_ops . AddReshape ( ) ;
static tflite::MicroInterpreter interp(tflite::GetModel(g_model),speech_ops,tensor_arena,sizeof(tensor_arena));interp.AllocateTensors();}
void loop(){}
