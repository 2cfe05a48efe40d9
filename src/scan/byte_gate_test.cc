#include "scan/byte_gate.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace coroner::scan {
namespace {

TEST(ByteGate, NeverGrantsTwoLeasesLargerThanTheBudgetAtOnce) {
  ByteGate gate(8 << 20);
  std::atomic<int> holders{0}, most{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int k = 0; k < 50; ++k) {
        ByteGate::Lease lease = gate.acquire(100 << 20);
        int now = ++holders;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        --holders;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(most.load(), 1);
  EXPECT_EQ(gate.in_use(), 0u);
}

TEST(ByteGate, GrantsLeasesThatFitTogetherWithoutWaiting) {
  ByteGate gate(10);
  ByteGate::Lease a = gate.acquire(4);
  ByteGate::Lease b = gate.acquire(6);
  EXPECT_TRUE(a);
  EXPECT_TRUE(b);
  EXPECT_EQ(gate.in_use(), 10u);
  a.reset();
  EXPECT_EQ(gate.in_use(), 6u);
}

TEST(ByteGate, WaiterProceedsOnceTheHolderGivesBack) {
  ByteGate gate(10);
  ByteGate::Lease big = gate.acquire(50);
  std::atomic<bool> granted{false};
  std::thread waiter([&] {
    ByteGate::Lease other = gate.acquire(50);
    granted = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(granted.load());
  big.reset();
  waiter.join();
  EXPECT_TRUE(granted.load());
  EXPECT_EQ(gate.in_use(), 0u);
}

TEST(ByteGate, MovedLeaseIsGivenBackOnce) {
  ByteGate gate(10);
  ByteGate::Lease a = gate.acquire(7);
  ByteGate::Lease b = std::move(a);
  EXPECT_FALSE(a);
  EXPECT_EQ(gate.in_use(), 7u);
  b = ByteGate::Lease();
  EXPECT_EQ(gate.in_use(), 0u);
}

}  // namespace
}  // namespace coroner::scan
