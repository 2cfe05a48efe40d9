#include "explore/users.h"

#include <gtest/gtest.h>

namespace coroner::explore {
namespace {

TEST(IdNamesTest, ParsesPasswdAndSkipsBrokenLines) {
  IdNames u = IdNames::parse(
      "root:x:0:0:root:/root:/bin/sh\r\n# comment\n\nbroken\nnobody:x:abc:1\n"
      "app:x:1000:1000::/home/app:/bin/sh\nroot2:x:0:0::/:/bin/sh\n");
  EXPECT_EQ(u.name(0), "root");  // the first line for an id wins
  EXPECT_EQ(u.name(1000), "app");
  EXPECT_EQ(u.id("app"), 1000u);
  EXPECT_EQ(u.id("root2"), 0u);
  EXPECT_FALSE(u.id("nobody").has_value());
  EXPECT_FALSE(u.name(65534).has_value());
}

TEST(IdNamesTest, LookupTakesNamesFirstThenNumbers) {
  IdNames g = IdNames::parse("wheel:x:10:\n100:x:5:\n");
  EXPECT_EQ(lookup_id(g, "wheel"), 10u);
  EXPECT_EQ(lookup_id(g, "100"), 5u);  // a name that looks like a number wins, as in find
  EXPECT_EQ(lookup_id(g, "42"), 42u);
  EXPECT_FALSE(lookup_id(g, "staff").has_value());
}

}  // namespace
}  // namespace coroner::explore
