"""Model → C: the model as a C array for TFLite Micro (`c_array`), and the standalone C runtime
generated for one model (`standalone`), with its sizes and its check against TFLite Micro.
Projects that build this C for a board are deploy's business."""
