"""Models: read .tflite facts, convert with TensorFlow (in a worker), verify with TFLite Micro."""
