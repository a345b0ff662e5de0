/* nn_gradcam.h: Grad-CAM, where in the image a CNN found its evidence for a class
 * (Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via
 * Gradient-based Localization", ICCV 2017).
 *
 * Pick a feature layer of the model, usually the last convolution (after its ReLU):
 * its output for one image is A: (1, K, h, w), K maps of h x w, each still tied to a
 * place in the image. For a class c with logit z_c (before softmax, as in the paper):
 *
 *   alpha_k = (1 / (h w)) sum_{i,j} d z_c / d A_k[i][j]     how much map k pushes z_c up
 *   cam     = relu( sum_k alpha_k A_k )                        (h, w)
 *
 * The gradient is one backward pass from dz = one-hot(c) (nn_model_backward_from):
 * what reaches A is d z_c / d A, the model's grads at A. The ReLU keeps the places
 * that speak FOR c; negative evidence (for other classes) is dropped.
 *
 * cam is then resized to the input's (H, W) by bilinear interpolation and scaled
 * to [0, 1] by (cam - min) / (max - min) (all 0 when max == min: no evidence).
 *
 * A check by hand: for conv -> GlobalAvgPool -> Dense (the CAM network of Zhou et al.
 * 2016), z_c = sum_k V[c][k] mean(A_k) + b_c, so d z_c / d A_k[i][j] = V[c][k] / (h w)
 * at every (i, j), alpha_k = V[c][k] / (h w), and Grad-CAM is CAM up to that scale.
 *
 * Shapes: x (1, C, H, W); A, dA (1, K, h, w); cam (H, W); images to blend (C, H, W)
 * or (1, C, H, W) with C = 1 or 3, the blend (3, H, W) for nn_image_write_png.
 * CPU tensors (the model may not sit on the GPU).
 */
#ifndef NN_GRADCAM_H
#define NN_GRADCAM_H

#include "nn_model.h"

/* The Grad-CAM of class `class_index` for one image x (1, C, H, W) into cam (H, W),
 * in [0, 1], from the output of m->layers[layer] (a layer giving (N, K, h, w): a conv,
 * its ReLU or a pool). Returns the class's logit z_c. Aborts, saying which layers
 * qualify, when `layer` is out of range or gives no feature maps. */
float nn_gradcam(nn_model *m, const nn_tensor *x, int class_index, int layer, nn_tensor *cam);

/* The heart of it: cam (h, w) = relu(sum_k alpha_k A_k), alpha_k = mean of dA_k, from
 * A and dA = d z_c / d A, both (1, K, h, w). Overwrites cam. */
void nn_gradcam_map(const nn_tensor *A, const nn_tensor *dA, nn_tensor *cam);

/* Bilinear resize of src (h, w) into dst (H, W), as PyTorch's F.interpolate(mode="bilinear",
 * align_corners=False) and OpenCV's cv2.resize: output pixel X looks at source
 * coordinate (X + 0.5) * w / W - 0.5 (clamped at 0), between pixel centres. */
void nn_gradcam_resize(const nn_tensor *src, nn_tensor *dst);

/* cam <- (cam - min) / (max - min), or all 0 when max == min. */
void nn_gradcam_normalize(nn_tensor *cam);

/* The jet colormap as a formula: t in [0, 1] -> rgb, dark blue (0) through cyan,
 * green, yellow to dark red (1): each channel is clamp(1.5 - |4t - k|, 0, 1) with
 * k = 3 (red), 2 (green), 1 (blue). */
void nn_colormap_jet(float t, float rgb[3]);

/* rgb (3, H, W) = (1 - opacity) * image + opacity * jet(cam): the heat map over the image.
 * image: (1, H, W) or (3, H, W), maybe with a leading 1 (a gray image is spread over
 * R, G, B); cam: (H, W) in [0, 1]; opacity in [0, 1], 0.5 is the usual. */
void nn_gradcam_overlay(const nn_tensor *image, const nn_tensor *cam, float opacity, nn_tensor *rgb);

#endif
