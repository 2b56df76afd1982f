# SPDX-License-Identifier: Apache-2.0
# The qk tool (src/cli):
#   test_cli_parsers  its npy/npz/safetensors readers and writers, globs and option parsing on
#                     hand-made valid and hostile inputs (cmocka, C++: they are C++ internals);
#   cli_e2e           the installed-style binary on the digits CNN fixture, as a user runs it:
#                     pack/info/verify/unpack/diff, sizes against the issue's goals, determinism,
#                     corrupted and truncated files, atomic replacement, every usage error.
#   cli_model         `qk quantize` (static and dynamic) and `qk run` on the committed ONNX fixtures
#                     of cli/data (cli/make_onnx_fixture.py): float output against numpy's, int8
#                     outputs within 5% of the output range, the usage and input errors.
# Registered only when the tool was built (libzip-dev and nlohmann-json3-dev present).
if(NOT TARGET qk)
  return()
endif()

qk_add_cmocka_test(test_cli_parsers SOURCES cli/test_cli_parsers.cc LINK qk_cli_io LABELS "unit;cli")

# numpy (when the interpreter has it) re-reads what `qk unpack` wrote: the .npz must be a file
# numpy itself accepts, not just one our own reader accepts.
set(_qk_cli_python "")
find_package(Python3 COMPONENTS Interpreter QUIET)
if(Python3_Interpreter_FOUND)
  execute_process(COMMAND ${Python3_EXECUTABLE} -c "import numpy" RESULT_VARIABLE _qk_no_numpy
                  OUTPUT_QUIET ERROR_QUIET)
  if(NOT _qk_no_numpy)
    set(_qk_cli_python ${Python3_EXECUTABLE})
  endif()
endif()
add_test(NAME cli_e2e
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/cli_e2e.sh $<TARGET_FILE:qk>
          ${PROJECT_SOURCE_DIR}/tests/data/digits_cnn.npz ${CMAKE_CURRENT_BINARY_DIR}/cli_e2e "${_qk_cli_python}")
set_tests_properties(cli_e2e PROPERTIES LABELS "cli;examples" TIMEOUT 300)
add_test(NAME cli_model
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/cli/cli_model.sh $<TARGET_FILE:qk>
          ${CMAKE_CURRENT_SOURCE_DIR}/cli/data ${CMAKE_CURRENT_BINARY_DIR}/cli_model)
set_tests_properties(cli_model PROPERTIES LABELS "cli" TIMEOUT 300)
