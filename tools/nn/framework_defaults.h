/* framework_defaults.h: the defaults Keras and PyTorch give differently (LeakyReLU's
 * slope, BatchNorm's momentum, Adam's epsilon, ...), as a table `nn exam` asks about and
 * explains. Static data, no code of the course's layers depends on it. */
#ifndef NN_FRAMEWORK_DEFAULTS_H
#define NN_FRAMEWORK_DEFAULTS_H

typedef struct {
  const char *key;          /* "leaky_relu_slope": short, stable, for exam topics */
  const char *what;         /* "LeakyReLU negative slope" */
  double keras;             /* Keras 3 (keras 3.x, the one TF 2.16+ installs) */
  double keras2;            /* tf.keras / Keras 2.x, where it differs; else = keras */
  double pytorch;           /* PyTorch 2.x */
  const char *keras_api;    /* "keras.layers.LeakyReLU(negative_slope=0.2)" */
  const char *pytorch_api;  /* "torch.nn.LeakyReLU(negative_slope=0.01)" */
  const char *explain;      /* one or two sentences: what it means, how to convert */
} nn_framework_default;

/* The table of defaults that differ (static data); *count gets its length. */
const nn_framework_default *nn_framework_defaults(int *count);
/* The entry with that key, or NULL. */
const nn_framework_default *nn_framework_default_find(const char *key);

#endif
