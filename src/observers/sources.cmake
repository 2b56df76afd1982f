# SPDX-License-Identifier: Apache-2.0
# Histogram observer family (included from src/CMakeLists.txt after quantkit_core is defined;
# histogram_observer.cc itself is already in the core's source list).
target_sources(quantkit_core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/histogram.cc
  ${CMAKE_CURRENT_LIST_DIR}/torch_l2_search.cc
  ${CMAKE_CURRENT_LIST_DIR}/calibration_search.cc
  ${CMAKE_CURRENT_LIST_DIR}/observer_set.cc
)
