# SPDX-License-Identifier: Apache-2.0
# The ONNX importer's tests (src/onnx): hostile files (C), conformance against the ONNX backend
# test suite and real exported models (Python, registered with the bindings' tests).
include(${CMAKE_CURRENT_LIST_DIR}/hostile.cmake OPTIONAL)
