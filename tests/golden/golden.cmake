# SPDX-License-Identifier: Apache-2.0
# Golden tests: QuantKit against PyTorch 1.13 outputs stored in tests/golden/data (written by
# tests/golden/gen_torch.py; see tests/golden/README.md). Label: golden.
set(QK_GOLDEN_TESTS
  test_golden_qparams
  test_golden_quantize
  test_golden_fake_quant
  test_golden_bn_fold
  test_golden_half
)
foreach(t IN LISTS QK_GOLDEN_TESTS)
  qk_add_cmocka_test(${t} SOURCES golden/${t}.c golden/golden_io.c LABELS golden)
endforeach()

# quantize/dequantize and the casts go through the ISA-dispatched kernels: run them again on the
# scalar reference path, so both the kernel in use and the specification match torch.
foreach(t test_golden_quantize test_golden_half)
  add_test(NAME ${t}_scalar COMMAND ${t})
  set_tests_properties(${t}_scalar PROPERTIES ENVIRONMENT "QK_ISA=scalar" LABELS golden)
endforeach()
