/* nn_loss.h: the loss functions an MLP is trained on.
 *
 * Every loss returns the MEAN loss over the batch as a double and ADDS dL/dpred
 * (the gradient of that mean) into `dpred`, which has pred's shape or is NULL
 * (loss only). Nothing is zeroed: the caller zeroes gradients once per step.
 *
 *   loss = nn_mse_loss(&pred, &target, &dpred);
 *
 * Shapes
 *   regression       pred, target: the same shape, (N, D) or (N); M = numel.
 *                    The mean is over all M elements (PyTorch's reduction='mean';
 *                    Keras' mean over D then over N is the same number).
 *   multi-class      logits z: (N, C), labels y: N ints in 0..C-1.
 *   binary           logits z: (N) or (N, 1), labels y: N ints in {0, 1}.
 * A label out of range aborts, naming the function, the row and the value.
 * Sums are taken in double; every formula below is per element (regression, r =
 * pred - target) or per row (classification) before the mean.
 *
 * ---- regression
 * MSE       l = r^2                               dl/dr = 2 r
 *           the default; the maximum-likelihood loss under Gaussian noise; an
 *           outlier's pull grows with r, so a few bad targets can dominate.
 * MAE       l = |r|                               dl/dr = sign(r), 0 at r = 0
 *           robust to outliers (predicts the median), but its gradient never
 *           shrinks near the optimum, so it needs a decaying learning rate.
 * Huber     l = r^2 / 2                 |r| <= delta   dl/dr = r
 *             = delta (|r| - delta / 2)  |r| >  delta   dl/dr = delta sign(r)
 *           robust to outliers: MSE near 0 (smooth), MAE beyond delta (the pull
 *           of an outlier is capped at delta). Continuous with its slope at delta.
 * log-cosh  l = log cosh r = |r| + log1p(e^(-2|r|)) - ln 2   dl/dr = tanh r
 *           a smooth Huber with delta ~ 1 (r^2/2 near 0, |r| - ln 2 far out), twice
 *           differentiable everywhere. The stable form: cosh r overflows a double
 *           past |r| ~ 710, a float past 89.
 *
 * ---- classification (all from logits: log(softmax) or log(sigmoid) of a float
 * that rounded to 0 or 1 is -inf; softmax is taken after subtracting the row max)
 * BCE            l = max(z, 0) - z y + log1p(e^-|z|)   dl/dz = sigmoid(z) - y
 *                two classes, p = sigmoid(z) read as P(y = 1); chapter 01's nn_bce_with_logits
 * sparse CE      l = logsumexp(z) - z_y                 dl/dz_c = softmax(z)_c - [c == y]
 *                C exclusive classes with integer labels: the default classifier loss
 *                (Keras' sparse_categorical_crossentropy, PyTorch's CrossEntropyLoss).
 * categorical CE l = -sum_c t_c log softmax(z)_c = logsumexp(z) - sum_c t_c z_c
 *                dl/dz_c = softmax(z)_c - t_c           (each row of t sums to 1)
 *                targets that are distributions: one-hot rows, label smoothing,
 *                a teacher's soft labels (distillation). Rows of t must be >= 0
 *                and sum to 1 (within 1e-3), else it aborts: the gradient above
 *                uses sum_c t_c = 1.
 * multi-class hinge (Weston-Watkins, the CS231n SVM loss, margin 1)
 *                l = sum_{j != y} max(0, z_j - z_y + 1)
 *                dl/dz_j = [z_j - z_y + 1 > 0] (j != y),  dl/dz_y = -sum_{j != y} [z_j - z_y + 1 > 0]
 *                a max-margin classifier: zero loss (and gradient) once the right
 *                class wins by 1, so easy examples stop pulling; no probabilities.
 * binary hinge   labels y in {0, 1} (as every binary loss here), t = 2 y - 1 in {-1, +1}:
 *                l = max(0, 1 - t z)                    dl/dz = -t [1 - t z > 0]
 *                the linear SVM's loss; {0, 1} so the same label array serves BCE,
 *                focal and hinge. A -1 label aborts: pass 0 for the negative class.
 * squared hinge  l = max(0, 1 - t z)^2                  dl/dz = -2 t max(0, 1 - t z)
 *                (Keras' squared_hinge): smooth at the margin, so its gradient fades
 *                as an example nears it instead of jumping from -t to 0.
 * focal (Lin et al. 2017, RetinaNet), p = sigmoid(z):
 *                p_t = p, alpha_t = alpha (y = 1);  p_t = 1 - p, alpha_t = 1 - alpha (y = 0)
 *                l = -alpha_t (1 - p_t)^gamma log p_t
 *                heavy class imbalance (dense detection, rare positives): the factor
 *                (1 - p_t)^gamma silences the many easy, well-classified examples.
 *                gamma = 0, alpha = 0.5 gives BCE / 2. Defaults gamma = 2, alpha = 0.25.
 *   Gradient: with s = 2 y - 1, p_t = sigmoid(s z), so dp_t/dz = s p_t (1 - p_t), and
 *     d/dp_t [-(1 - p_t)^gamma log p_t] = gamma (1 - p_t)^(gamma-1) log p_t - (1 - p_t)^gamma / p_t
 *   Multiplying the two:
 *     dl/dz = alpha_t s (1 - p_t)^gamma [gamma p_t log p_t - (1 - p_t)]
 *   (gamma = 0, alpha_t = 1: s (p_t - 1) = sigmoid(z) - y, BCE's.) Computed stably:
 *   log p_t = -(max(-s z, 0) + log1p(e^-|z|)), 1 - p_t = sigmoid(-s z).
 *
 * Subgradients at kinks (MAE at r = 0, hinge at margin exactly 0) are 0.
 *
 * Devices: every loss runs where its tensors are, NN_CPU or NN_GPU (nn_loss.cu,
 * the same formulas, sums in double there too); pred, target and the gradient
 * must share one device. Labels `const int *y` are HOST memory on both devices:
 * they are checked on the host, and the GPU path copies them over itself. The
 * GPU path returns after the loss is back on the host (one small copy per call).
 * The functions above borrow that copy's device memory (the labels, the sum) from
 * CUDA's stream-ordered pool; a table row's mean() (below), which is what models
 * and tapes call, takes it from the caller's arena instead, so a training step
 * allocates nothing.
 */
#ifndef NN_LOSS_H
#define NN_LOSS_H

#include "nn_arena.h"
#include "nn_tensor.h"

#define NN_FOCAL_ALPHA 0.25f /* Lin et al.'s best pair on COCO, with gamma = 2 */
#define NN_FOCAL_GAMMA 2.f

/* ---- regression: pred, target (N, D) or (N); dpred: pred's shape, or NULL */
double nn_mse_loss(const nn_tensor *pred, const nn_tensor *target, nn_tensor *dpred);
double nn_mae_loss(const nn_tensor *pred, const nn_tensor *target, nn_tensor *dpred);
/* delta > 0 */
double nn_huber_loss(const nn_tensor *pred, const nn_tensor *target, float delta, nn_tensor *dpred);
double nn_log_cosh_loss(const nn_tensor *pred, const nn_tensor *target, nn_tensor *dpred);

/* ---- binary classification: logits (N) or (N, 1), y: N labels in {0, 1} */
double nn_bce_loss(const nn_tensor *logits, const int *y, nn_tensor *dlogits);
double nn_binary_hinge_loss(const nn_tensor *logits, const int *y, nn_tensor *dlogits);
double nn_squared_hinge_loss(const nn_tensor *logits, const int *y, nn_tensor *dlogits);
/* alpha in [0, 1], gamma >= 0; NN_FOCAL_ALPHA, NN_FOCAL_GAMMA for the paper's defaults */
double nn_focal_loss(const nn_tensor *logits, const int *y, float alpha, float gamma,
                     nn_tensor *dlogits);

/* ---- multi-class: logits (N, C), C >= 2 */
/* y: N labels in 0..C-1 */
double nn_sparse_ce_loss(const nn_tensor *logits, const int *y, nn_tensor *dlogits);
/* target (N, C): each row a distribution (one-hot or soft) */
double nn_categorical_ce_loss(const nn_tensor *logits, const nn_tensor *target, nn_tensor *dlogits);
/* y: N labels in 0..C-1; margin 1 */
double nn_multi_hinge_loss(const nn_tensor *logits, const int *y, nn_tensor *dlogits);

/* ---- the losses as a model sees them: one table row each
 *
 * A model (nn_model.h) or a tape (nn_tape.h) calls a loss through its row: the row says
 * what target it takes and how many outputs it needs, and `mean` computes it. A loss
 * that is not in the table (a masked sequence loss of chapter 04, a VAE's KL term) is
 * a new nn_loss with its own `mean`: nothing that calls losses changes. */

/* What a prediction is compared with: int labels (N) for the classification losses, a
 * tensor shaped as the prediction for the regression ones. A loss reads the one it takes. */
typedef struct {
  const int *labels;  /* (N) classes, host memory */
  const nn_tensor *Y; /* the prediction's shape, on its device */
} nn_target;

typedef struct nn_loss nn_loss;
struct nn_loss {
  const char *name;  /* "sparse_ce": what nn_loss_parse reads and `nn` prints */
  bool takes_labels; /* target.labels (and accuracy is reported), else target.Y */
  int outputs;       /* what the last layer gives per example: 1 (one logit), 2 (two or more
                      * classes), 0 (any shape: regression) */
  /* The mean loss of pred against target; adds its gradient into dpred unless NULL.
   * scratch: an arena on pred's device that the GPU path borrows from (the labels
   * copied over, the sum), or NULL (CUDA's pool); the CPU path needs none. */
  double (*mean)(const nn_loss *loss, const nn_tensor *pred, const nn_target *target, nn_tensor *dpred,
                 nn_arena *scratch);
};

typedef enum {
  NN_LOSS_SPARSE_CE = 0, /* logits (N, C), labels 0..C-1: the default classifier */
  NN_LOSS_BCE,           /* logits (N, 1), labels {0, 1} */
  NN_LOSS_FOCAL,         /* as BCE, alpha 0.25, gamma 2 */
  NN_LOSS_BINARY_HINGE,  /* logits (N, 1), labels {0, 1} */
  NN_LOSS_MULTI_HINGE,   /* logits (N, C), labels 0..C-1 */
  NN_LOSS_MSE,           /* predictions and targets Y of one shape */
  NN_LOSS_MAE,
  NN_LOSS_HUBER,         /* delta 1 */
  NN_LOSS_LOG_COSH,
  NN_LOSS_CATEGORICAL_CE, /* logits (N, C), targets Y (N, C): one-hot rows (nn_to_categorical) or soft ones */
  NN_LOSS_SQUARED_HINGE, /* logits (N, 1), labels {0, 1} */
  NN_LOSS_COUNT          /* how many kinds there are; not a kind */
} nn_loss_kind;

/* The table's row for a kind. */
const nn_loss *nn_loss_of(nn_loss_kind kind);
/* "sparse_ce", "bce", "focal", "binary_hinge", "multi_hinge", "mse", "mae", "huber", "log_cosh",
 * "categorical_ce", "squared_hinge". */
const char *nn_loss_name(nn_loss_kind kind);
nn_status nn_loss_parse(const char *name, nn_loss_kind *kind, nn_error *err);
/* True for the losses that take int labels: the row's takes_labels. */
bool nn_loss_takes_labels(nn_loss_kind kind);
/* True for a classifier's loss (outputs 1 or 2): a model reports its accuracy, against the
 * labels or, for targets Y (categorical CE's one-hot rows), against each row's largest entry. */
bool nn_loss_classifies(const nn_loss *loss);

/* Keras' to_categorical: labels y (N) in 0..C-1 as one-hot rows, a new (N, C) CPU tensor the
 * caller frees; the targets categorical CE takes. A label out of range aborts, naming it. */
nn_tensor nn_to_categorical(const int *y, int N, int C);

#endif
