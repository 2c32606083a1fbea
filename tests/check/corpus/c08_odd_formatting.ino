// model: micro_speech_quantized
#include <TensorFlowLite.h>
#include "model_data.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
static tflite :: MicroMutableOpResolver
  < 4 > resolver ;
uint8_t   tensor_arena  [ 12*1024 ] ;
tflite::MicroInterpreter*interpreter;
void setup(){Serial.begin(115200);resolver . AddDepthwiseConv2D ( ) ;resolver.AddFullyConnected();
resolver.AddSoftmax();   resolver.AddReshape();
static tflite::MicroInterpreter the_interpreter(
   tflite::GetModel( g_model ),
   resolver,tensor_arena,
   sizeof tensor_arena);interpreter=&the_interpreter;interpreter->AllocateTensors();}
void loop(){TfLiteTensor*o=interpreter->output(0);float yes=(o->data.int8[2]-o->params.zero_point)*o->params.scale;Serial.println(yes);}
