// SPDX-License-Identifier: Apache-2.0
// Strict UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF),
// used for tensor names and metadata values by both the writer and the reader.
#pragma once

#include <cstddef>
#include <cstdint>

namespace qk {
namespace qkw {

inline bool is_valid_utf8(const uint8_t* s, size_t n, bool allow_nul = false) {
  size_t i = 0;
  while (i < n) {
    const uint8_t c = s[i];
    if (c < 0x80) {
      if (c == 0 && !allow_nul) return false;
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
    else return false;  // continuation byte first, overlong lead 0xC0/0xC1, or > U+10FFFF lead
    if (n - i < len) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return false;  // overlong, range
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;                                               // surrogates
    i += len;
  }
  return true;
}

// Metadata keys: 1..256 bytes of printable ASCII without space (0x21..0x7E).
inline bool is_valid_key(const uint8_t* s, size_t n) {
  if (n == 0) return false;
  for (size_t i = 0; i < n; ++i)
    if (s[i] < 0x21 || s[i] > 0x7E) return false;
  return true;
}

}  // namespace qkw
}  // namespace qk
