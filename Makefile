# SPDX-License-Identifier: Apache-2.0
# Developer entry points, a thin layer over CMake/CTest: `make test` from a fresh clone installs
# missing Debian packages (as root), builds, runs every test, then re-runs the C tests under
# ASan+UBSan. The real build logic lives in CMakeLists.txt; nothing here is needed by CMake users.

# Overridable, e.g. `make test BUILD_DIR=build-x ASAN_BUILD_DIR=build-x-asan JOBS=4`.
BUILD_DIR      ?= build
ASAN_BUILD_DIR ?= build-asan
BUILD_TYPE     ?= Release
# The sanitizer build keeps optimisation (UB that only shows in optimised code is still caught)
# and debug info for readable reports.
ASAN_BUILD_TYPE ?= RelWithDebInfo
JOBS           ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE          ?= cmake
CTEST          ?= ctest
# Extra -D options for both configurations (e.g. CMAKE_ARGS=-DQK_WERROR=ON).
CMAKE_ARGS     ?=
# The Python binding is built for Debian's interpreter (it has python3-numpy and python3-pytest),
# even when another python3 (pyenv, venv) comes first on PATH.
PYTHON         ?= $(firstword $(wildcard /usr/bin/python3) python3)
# Package groups of scripts/install-deps.sh.
DEPS_GROUPS    ?= core cli cross-arm64 bindings onnx-tests
# Labels of the C tests (and the qk tool's end-to-end test) that also run under the sanitizers;
# `fuzz` (the fuzz targets' replays) and `hardening` (hostile-input tests whose leaks only LSan
# sees) are listed although they also carry `unit`, so they stay covered if that label moves.
ASAN_TEST_LABELS ?= unit|golden|per_isa|cli|fuzz|hardening
# The multi-threaded C tests, re-run under ThreadSanitizer (`make test-tsan`, part of `make test`).
TSAN_BUILD_DIR ?= build-tsan
TSAN_TESTS     ?= test_model test_qkw_api test_qconv test_qgemm test_version_errors
BENCH_PROGRAMS ?= bench_quantize bench_gemm bench_conv bench_qkw bench_graph
# `make fuzz`: every libFuzzer target of tests/fuzz/fuzz.cmake, built with clang (ASan+UBSan) in
# FUZZ_BUILD_DIR and run coverage-guided for FUZZ_SECONDS each, one after the other (FUZZ_TARGETS
# picks some; FUZZ_ARGS adds libFuzzer flags). docs/FUZZING.md.
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_SECONDS   ?= 60
FUZZ_TARGETS   ?=
FUZZ_CC        ?= $(firstword $(shell command -v clang-14 clang 2>/dev/null))
FUZZ_CXX       ?= $(firstword $(shell command -v clang++-14 clang++ 2>/dev/null))

# Every failing test prints its output, also for direct `ctest` runs in a `make` shell.
export CTEST_OUTPUT_ON_FAILURE := 1
# The sanitizer build already uses -fno-sanitize-recover=all; these make the reports complete.
export ASAN_OPTIONS ?= detect_leaks=1
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1

# `cmake --build` runs the generator's make as a plain child process, not as $(MAKE): without
# this it would inherit our MAKEFLAGS (jobserver fds it cannot use) and warn or fall back to -j1.
CMAKE_BUILD := env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL $(CMAKE) --build

.DEFAULT_GOAL := build
.PHONY: help deps configure build demo test test-main test-asan configure-asan build-asan test-tsan bench clean \
  fuzz fuzz-corpus

help:
	@echo "make deps    install missing Debian packages (root) or print the apt-get line"
	@echo "make build   configure + build in $(BUILD_DIR)/ ($(BUILD_TYPE))"
	@echo "make demo    build and run the C demo ($(BUILD_DIR)/examples/qk_demo)"
	@echo "make test    all tests in $(BUILD_DIR)/, then C tests under ASan+UBSan in $(ASAN_BUILD_DIR)/"
	@echo "             and the threaded ones under TSan in $(TSAN_BUILD_DIR)/"
	@echo "make bench   build and run the benchmarks ($(BENCH_PROGRAMS))"
	@echo "make fuzz    libFuzzer targets with clang in $(FUZZ_BUILD_DIR)/, each for FUZZ_SECONDS=$(FUZZ_SECONDS)"
	@echo "make fuzz-corpus   regenerate the committed seed corpora tests/fuzz/corpus/<target>/"
	@echo "make clean   remove $(BUILD_DIR)/ and $(ASAN_BUILD_DIR)/"
	@echo "variables: BUILD_DIR ASAN_BUILD_DIR BUILD_TYPE ASAN_BUILD_TYPE JOBS CMAKE_ARGS DEPS_GROUPS"

deps:
	@bash scripts/install-deps.sh $(DEPS_GROUPS)

# Re-running the configure step is cheap and picks up option changes, so it is not a file target.
configure: deps
	$(CMAKE) -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DPython3_EXECUTABLE=$(PYTHON) $(CMAKE_ARGS)

build: configure
	$(CMAKE_BUILD) $(BUILD_DIR) -j $(JOBS)

# Only the demo and the library are built: the quickest path from a fresh clone to output.
demo: configure
	$(CMAKE_BUILD) $(BUILD_DIR) -j $(JOBS) --target qk_demo
	./$(BUILD_DIR)/examples/qk_demo

# The two phases run one after the other even under `make -j`: each already uses all $(JOBS)
# cores, and a failure in the normal build should be seen before the slower sanitizer build.
test: test-main
	@$(MAKE) --no-print-directory test-asan
	@$(MAKE) --no-print-directory test-tsan

test-main: build
	cd $(BUILD_DIR) && $(CTEST) --output-on-failure --no-tests=error -j $(JOBS)

configure-asan: deps
	$(CMAKE) -S . -B $(ASAN_BUILD_DIR) -DCMAKE_BUILD_TYPE=$(ASAN_BUILD_TYPE) -DQK_SANITIZE=ON -DPython3_EXECUTABLE=$(PYTHON) \
	  -DQK_BUILD_BENCHMARKS=OFF -DQK_BUILD_EXAMPLES=OFF $(CMAKE_ARGS)

build-asan: configure-asan
	$(CMAKE_BUILD) $(ASAN_BUILD_DIR) -j $(JOBS)

test-asan: build-asan
	cd $(ASAN_BUILD_DIR) && $(CTEST) --output-on-failure --no-tests=error -j $(JOBS) -L '$(ASAN_TEST_LABELS)'

# Only the library and the threaded tests are built: a TSan build of everything adds nothing here.
test-tsan: deps
	$(CMAKE) -S . -B $(TSAN_BUILD_DIR) -DCMAKE_BUILD_TYPE=$(ASAN_BUILD_TYPE) -DQK_TSAN=ON -DQK_BUILD_STATIC=OFF \
	  -DQK_BUILD_BENCHMARKS=OFF -DQK_BUILD_EXAMPLES=OFF -DQK_BUILD_CLI=OFF -DQK_BUILD_BINDINGS=OFF $(CMAKE_ARGS)
	$(CMAKE_BUILD) $(TSAN_BUILD_DIR) -j $(JOBS) --target $(TSAN_TESTS)
	cd $(TSAN_BUILD_DIR) && TSAN_OPTIONS=halt_on_error=1 $(CTEST) --output-on-failure --no-tests=error -j $(JOBS) \
	  -R '^($(shell echo $(TSAN_TESTS) | tr ' ' '|'))$$'

bench: configure
	$(CMAKE_BUILD) $(BUILD_DIR) -j $(JOBS) --target $(BENCH_PROGRAMS)
	@set -e; for b in $(BENCH_PROGRAMS); do \
	  echo "== $$b"; ./$(BUILD_DIR)/tests/bench/$$b; \
	done

# Only the library and the fuzz targets are built (no bindings, tool or examples).
fuzz:
	@bash scripts/install-deps.sh core fuzz
	$(CMAKE) -S . -B $(FUZZ_BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=$(FUZZ_CC) \
	  -DCMAKE_CXX_COMPILER=$(FUZZ_CXX) -DQK_FUZZ=ON -DQK_BUILD_SHARED=OFF -DQK_BUILD_CLI=OFF -DQK_BUILD_BINDINGS=OFF \
	  -DQK_BUILD_EXAMPLES=OFF -DQK_BUILD_BENCHMARKS=OFF -DQK_INSTALL=OFF $(CMAKE_ARGS)
	$(CMAKE_BUILD) $(FUZZ_BUILD_DIR) -j $(JOBS) --target qk_fuzz_targets
	bash scripts/run-fuzz.sh $(FUZZ_BUILD_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The generators are deterministic: re-run after changing a format or adding a seed kind, and
# commit the result (regress-* seeds found by fuzzing are kept).
fuzz-corpus: build
	@set -e; for g in $(BUILD_DIR)/tests/make_*_corpus; do \
	  t=$$(basename $$g | sed 's/^make_//; s/_corpus$$//'); \
	  find tests/fuzz/corpus/$$t -type f ! -name 'regress-*' -delete 2>/dev/null || true; \
	  $$g tests/fuzz/corpus/$$t; \
	done

clean:
	rm -rf $(BUILD_DIR) $(ASAN_BUILD_DIR) $(TSAN_BUILD_DIR)
