/* SPDX-License-Identifier: Apache-2.0 */
/* Builds the digits CNN of examples/data/digits_cnn.qktb as a qk_model (shared by model_demo.c
 * and tests/model). Example code, not part of libquantkit. */
#ifndef QK_EXAMPLES_DIGITS_MODEL_H
#define QK_EXAMPLES_DIGITS_MODEL_H

#include "quantkit/quantkit.h"
#include "tensor_bundle.h"

/* conv1-bn1-relu1, conv2-bn2-relu2-pool2, conv3-bn3-relu3-pool3, flatten, fc1-bn4-relu4,
 * dropout, fc2 (input "image" {1, 16, 16}, output "logits" {10}). Returns QK_OK or the first
 * failing status (the bundle tensors must exist: QK_ERR_NOT_FOUND otherwise). */
qk_status digits_model_build(const tensor_bundle* weights, qk_model** model_out);

#endif
