# Helpers shared by the project's CMakeLists.

# qn_add_unittest(<Name>Tests src...): a GoogleTest binary placed in
# <build>/unittests, where lit's GoogleTest format runs it.
function(qn_add_unittest name)
  add_executable(${name} ${ARGN})
  set_target_properties(${name} PROPERTIES
    RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/unittests)
  target_link_libraries(${name} PRIVATE GTest::gtest GTest::gtest_main)
  qn_add_test_depends(${name})
endfunction()

# Marks targets the test suite needs built before it runs.
function(qn_add_test_depends)
  set_property(GLOBAL APPEND PROPERTY QN_TEST_DEPENDS ${ARGN})
endfunction()
