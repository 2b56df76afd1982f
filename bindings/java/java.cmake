# SPDX-License-Identifier: Apache-2.0
# Java binding: not implemented yet (bindings/README.md, "Status").
message(STATUS "QuantKit Java binding: not built (not implemented yet; see bindings/README.md)")
