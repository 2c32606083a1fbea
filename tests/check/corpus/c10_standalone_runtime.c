// model: hello_world_int8
/* The standalone runtime's API (no TFLite Micro): nothing for tinyml check to say. */
#include <stdio.h>
#include "model.h"

int main(void) {
    int8_t in[1] = {-128};
    int8_t out[1];
    model_invoke(in, out);
    printf("%d\n", out[0]);
    return 0;
}
