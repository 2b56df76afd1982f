# SPDX-License-Identifier: Apache-2.0
# Histogram observer family tests (included from tests/CMakeLists.txt). Both names contain
# "hist" so `ctest -R hist` runs exactly these.
qk_add_cmocka_test(test_histogram_observers SOURCES unit/test_histogram_observers.c LINK qk_xxhash LABELS unit)
qk_add_cmocka_test(test_golden_histogram SOURCES unit/test_golden_histogram.c LABELS unit golden)
