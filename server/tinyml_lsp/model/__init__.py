"""Models and data: .tflite facts from the flatbuffer, datasets, conversion with TensorFlow and
checks with TFLite Micro's interpreter (both in workers, `messages` being their protocol)."""
