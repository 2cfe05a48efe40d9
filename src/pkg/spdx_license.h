// SPDX license expressions (SPDX 2.3, annex D): what a package's license field can be written as
// in an SBOM. rpm's License tag (Fedora before 2023, RHEL, CentOS: "GPLv2+ and BSD"), apk's L:
// and the like are often not SPDX; an SBOM that passes them off as expressions is invalid for
// SPDX tools and misleads license scanners.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace coroner::pkg {

// `text` as a canonical SPDX license expression, when it is one: identifiers of the SPDX License
// List 3.24 (data/spdx_license_ids.txt; matched without regard to case, written as the list
// writes them), an optional "+", LicenseRef-/DocumentRef- references, WITH an exception, AND, OR
// (also in lower case) and parentheses, with AND binding tighter than OR. nullopt otherwise
// ("GPLv2+", "Public Domain", "MIT or GPL-2.0" is fine, "MIT and" is not).
std::optional<std::string> spdx_expression(std::string_view text);

}  // namespace coroner::pkg
