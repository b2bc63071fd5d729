// Shared main for every test binary; tests/support/test_env.h finds fixtures and shared data.
#include <gtest/gtest.h>

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
