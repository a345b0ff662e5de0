/* The BatchNorm calculator (nn_batchnorm_shapes.h): Keras counts 4F (2F non-trainable
 * moving statistics), PyTorch 2F parameters and 2F + 1 buffers. *
 * The PyTorch numbers were also checked once, in development, against
 * sum(p.numel() for p in m.parameters()) and m(x).shape with torch 1.13 (not here:
 * the tests must run without it). The Keras numbers follow the layer sources
 * (keras/src/layers/...): Keras is not installed here. */
#include <criterion/criterion.h>
#include <string.h>

#include "calc_expect.h"
#include "nn_batchnorm_shapes.h"

#define KERAS NN_KERAS
#define TORCH NN_PYTORCH

Test(norm, batchnorm_four_c_vs_two_c_plus_buffers) {
  nn_error err = {0};
  nn_calc c;
  nn_shape in = nn_shape_image(32, 26, 26);
  calc_ok(nn_calc_batchnorm(&in, KERAS, &c, &err), &err, "bn keras");
  calc_expect_params(&c, 128, "Keras BatchNormalization on 32 channels");
  cr_assert_eq(c.trainable, 64);
  cr_assert_eq(c.non_trainable, 64);
  cr_assert_eq(c.buffers, 0);
  calc_ok(nn_calc_batchnorm(&in, TORCH, &c, &err), &err, "bn torch");
  calc_expect_params(&c, 64, "BatchNorm2d(32)");
  cr_assert_eq(c.trainable, 64);
  cr_assert_eq(c.non_trainable, 0);
  cr_assert_eq(c.buffers, 65, "running_mean 32 + running_var 32 + num_batches_tracked 1");
  nn_shape vec = nn_shape_vector(512);
  calc_ok(nn_calc_batchnorm(&vec, KERAS, &c, &err), &err, "bn1d");
  cr_assert_eq(c.params, 2048);
}
