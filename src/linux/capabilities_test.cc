#include "linux/capabilities.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/tree_builder.h"

namespace coroner::linux_ {
namespace {

using testing::vfs_cap;

TEST(CapabilityNamesTest, KernelOrderAndListing) {
  ASSERT_EQ(capability_names().size(), 41u);
  EXPECT_EQ(capability_names()[10], "net_bind_service");
  EXPECT_EQ(capability_names()[40], "checkpoint_restore");
  EXPECT_EQ(capability_list((uint64_t{1} << 10) | (uint64_t{1} << 21)),
            "cap_net_bind_service,cap_sys_admin");
  EXPECT_EQ(capability_list(uint64_t{1} << 50), "cap_50");
  EXPECT_EQ(capability_list(0), "");
}

TEST(FileCapsTest, ParsesLibcapText) {
  auto bit = [](int n) { return uint64_t{1} << n; };
  EXPECT_EQ(parse_cap_text("cap_net_bind_service=ep"), (FileCaps{bit(10), bit(10), 0}));
  EXPECT_EQ(parse_cap_text("cap_net_raw,cap_net_admin+p"), (FileCaps{0, bit(13) | bit(12), 0}));
  EXPECT_EQ(parse_cap_text("CAP_KILL=i"), (FileCaps{0, 0, bit(5)}));
  EXPECT_EQ(parse_cap_text("cap_chown=eip cap_chown-i"), (FileCaps{bit(0), bit(0), 0}));
  EXPECT_EQ(parse_cap_text("cap_chown=p+e"), (FileCaps{bit(0), bit(0), 0}));
  uint64_t all = (uint64_t{1} << 41) - 1;
  EXPECT_EQ(parse_cap_text("=ep cap_sys_admin-e"), (FileCaps{all & ~bit(21), all, 0}));
  EXPECT_EQ(parse_cap_text("all=p"), (FileCaps{0, all, 0}));
  EXPECT_EQ(parse_cap_text("="), FileCaps{});
  EXPECT_EQ(parse_cap_text(""), FileCaps{});
  EXPECT_EQ(parse_cap_text("cap_nope=ep"), std::nullopt);
  EXPECT_EQ(parse_cap_text("+ep"), std::nullopt);
  EXPECT_EQ(parse_cap_text("cap_chown"), std::nullopt);
  EXPECT_EQ(parse_cap_text("cap_chown=x"), std::nullopt);
  EXPECT_EQ(parse_cap_text("cap_chown,=p"), std::nullopt);
}

TEST(FileCapsTest, DecodesSecurityCapabilityXattr) {
  // setcap cap_net_bind_service=ep: revision 2, effective flag, permitted bit 10.
  EXPECT_EQ(decode_vfs_cap(vfs_cap(0x02000001, {1 << 10, 0, 0, 0})),
            (FileCaps{1 << 10, 1 << 10, 0}));
  // Revision 3 (a root id follows); no effective flag; a capability of the high word.
  EXPECT_EQ(decode_vfs_cap(vfs_cap(0x03000000, {0, 1 << 2, 1 << 6, 0, 0})),
            (FileCaps{0, uint64_t{1} << 38, 1 << 2}));
  EXPECT_EQ(decode_vfs_cap(vfs_cap(0x01000001, {1, 2})), (FileCaps{3, 1, 2}));
  EXPECT_EQ(decode_vfs_cap(vfs_cap(0x02000001, {1, 0, 0})), std::nullopt);  // too short
  EXPECT_EQ(decode_vfs_cap(vfs_cap(0x04000001, {1, 0, 0, 0})), std::nullopt);
}

}  // namespace
}  // namespace coroner::linux_
