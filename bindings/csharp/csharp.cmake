# SPDX-License-Identifier: Apache-2.0
# C# binding: not implemented yet (bindings/README.md, "Status").
message(STATUS "QuantKit C# binding: not built (not implemented yet; see bindings/README.md)")
