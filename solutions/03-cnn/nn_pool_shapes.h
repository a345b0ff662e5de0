/* nn_pool_shapes.h: a pooling layer's output size, in Keras' and PyTorch's conventions:
 * max and average pooling (1-D, 2-D; PyTorch's ceil_mode and dilation), global pooling.
 * Pooling has no parameters: its calculators give shapes only. The calculator `nn exam`
 * and `nn summary` use, and the one nn_pool.c sizes its output with (nn_pool_out_len), so
 * a layer and a drill never disagree. Shapes, frameworks and nn_calc: nn_shapes.h;
 * padding modes: nn_conv_shapes.h.
 *
 *   nn_pool_opts o = nn_pool_opts_default(NN_POOL_MAX, 2);   MaxPool2d(2): stride 2
 *   nn_calc c;
 *   nn_calc_pool2d(&conv_out, &o, NN_PYTORCH, &c, &err);       (32, 26, 26) -> (32, 13, 13) */
#ifndef NN_POOL_SHAPES_H
#define NN_POOL_SHAPES_H

#include "nn_conv_shapes.h" /* nn_pad_mode */
#include "nn_shapes.h"

typedef enum { NN_POOL_MAX = 0, NN_POOL_AVG } nn_pool_kind;

typedef struct {
  nn_pool_kind kind;
  int kernel;      /* k >= 1 (pool_size) */
  int stride;      /* s >= 1; 0 means "= kernel", both frameworks' default (None) */
  nn_pad_mode pad; /* Keras valid/same; PyTorch valid/explicit (p <= k/2) */
  int padding;     /* p, PyTorch only, each side */
  int dilation;    /* d >= 1, PyTorch MaxPool only */
  bool ceil_mode;  /* PyTorch only: round the division up */
} nn_pool_opts;

/* kind, kernel; stride = kernel, valid, dilation 1, floor. */
nn_pool_opts nn_pool_opts_default(nn_pool_kind kind, int kernel);

/* Pooling output length along one axis:
 *   floor: out = floor((L + 2p - d*(k-1) - 1) / s) + 1
 *   ceil_mode (PyTorch): out = ceil((L + 2p - d*(k-1) - 1) / s) + 1, minus 1 when the
 *     last window would start in the right padding, i.e. when (out-1)*s >= L + p
 *   Keras same: ceil(L / s); Keras valid: floor((L - k) / s) + 1
 * Errors: k < 1, s < 0, p > k/2 (PyTorch), ceil_mode or explicit padding with Keras,
 * same with PyTorch, or a window larger than the padded input. */
nn_status nn_pool_out_len(int L, const nn_pool_opts *o, nn_framework fw, nn_len *out, nn_error *err);

/* MaxPool2d/AvgPool2d (PyTorch), MaxPooling2D/AveragePooling2D (Keras) on (C, H, W);
 * MaxPool1d etc. on (C, L). 0 params. */
nn_status nn_calc_pool2d(const nn_shape *in, const nn_pool_opts *o, nn_framework fw, nn_calc *c,
                         nn_error *err);
nn_status nn_calc_pool1d(const nn_shape *in, const nn_pool_opts *o, nn_framework fw, nn_calc *c,
                         nn_error *err);

/* Global average/max pooling over every spatial axis of (C, H, W) or (C, L), 0 params:
 *   Keras GlobalAveragePooling2D -> (C)            (keepdims=False, the default)
 *   PyTorch AdaptiveAvgPool2d(1) -> (C, 1, 1)      (flatten it for (C)) */
nn_status nn_calc_global_pool(const nn_shape *in, nn_pool_kind kind, nn_framework fw, nn_calc *c,
                              nn_error *err);

#endif
