#include "pkg/spdx_license.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace coroner::pkg {
namespace {

TEST(SpdxLicenseTest, ExpressionsOfListedIdsAreCanonicalized) {
  EXPECT_EQ(spdx_expression("MIT"), "MIT");
  EXPECT_EQ(spdx_expression("mit"), "MIT");
  EXPECT_EQ(spdx_expression("GPL-2.0-or-later"), "GPL-2.0-or-later");
  EXPECT_EQ(spdx_expression("LGPL-2.1+"), "LGPL-2.1+");
  EXPECT_EQ(spdx_expression("MIT or Apache-2.0"), "MIT OR Apache-2.0");
  EXPECT_EQ(spdx_expression("(MIT OR BSD-3-Clause) AND Zlib"), "(MIT OR BSD-3-Clause) AND Zlib");
  EXPECT_EQ(spdx_expression("GPL-2.0-only WITH Classpath-exception-2.0"),
            "GPL-2.0-only WITH Classpath-exception-2.0");
  EXPECT_EQ(spdx_expression("LicenseRef-Proprietary"), "LicenseRef-Proprietary");
  EXPECT_EQ(spdx_expression("  BSD-2-Clause\t"), "BSD-2-Clause");
}

TEST(SpdxLicenseTest, WhatIsNotAnExpressionOfListedIds) {
  // Fedora's short names before 2023 (RHEL and CentOS still use them), free text, bad syntax.
  for (const char* text : {"GPLv2+", "GPLv2+ and BSD", "Public Domain", "ASL 2.0", "MIT and",
                           "(MIT", "MIT)", "AND MIT", "MIT WITH", "MIT WITH GPL-2.0+", "MIT, BSD",
                           "", "  ", "LicenseRef-a/b", "GPL-2.0-only WITH"}) {
    EXPECT_EQ(spdx_expression(text), std::nullopt) << text;
  }
  EXPECT_EQ(spdx_expression(std::string(5000, 'x')), std::nullopt);
  EXPECT_EQ(spdx_expression(std::string(100, '(') + "MIT" + std::string(100, ')')), std::nullopt);
}

}  // namespace
}  // namespace coroner::pkg
