// SPDX-License-Identifier: Apache-2.0
// Unit tests of the qk tool's readers and writers (src/cli: npy, npz, safetensors, glob, args)
// on hand-made valid and hostile inputs. Every error must be an Error naming what is wrong,
// raised before any allocation sized by the input. C++ (the internals are C++) on cmocka.
#include <unistd.h>

#include <cstdarg>
#include <cstddef>
#include <csetjmp>
extern "C" {
#include <cmocka.h>
}

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "args.h"
#include "common.h"
#include "glob.h"
#include "npy.h"
#include "npz.h"
#include "safetensors.h"

using namespace qkcli;

// cmocka's assertions print the failed expression and end the test; its headers need these first.
#define CHECK(cond) assert_true(cond)

// fn must throw Error whose message contains `needle`.
static void expect_error(const char* what, const std::function<void()>& fn, const std::string& needle) {
  try {
    fn();
  } catch (const Error& e) {
    if (std::string(e.what()).find(needle) == std::string::npos)
      fail_msg("%s: expected an error containing '%s', got '%s'", what, needle.c_str(), e.what());
    return;
  }
  fail_msg("%s: expected an error containing '%s', got none", what, needle.c_str());
}

static std::vector<uint8_t> bytes(const std::string& s) { return std::vector<uint8_t>(s.begin(), s.end()); }

// A v1.0 .npy image with the given dict text and data bytes.
static std::vector<uint8_t> npy(const std::string& dict, const std::vector<uint8_t>& data) {
  std::string h = dict;
  while ((10 + h.size() + 1) % 64) h += ' ';
  h += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\0';
  out += static_cast<char>(h.size() & 0xFF);
  out += static_cast<char>(h.size() >> 8);
  out += h;
  std::vector<uint8_t> v = bytes(out);
  v.insert(v.end(), data.begin(), data.end());
  return v;
}

static std::vector<uint8_t> floats(std::initializer_list<float> f) {
  std::vector<uint8_t> v(f.size() * 4);
  std::memcpy(v.data(), f.begin(), v.size());
  return v;
}

static float f32_at(const Tensor& t, size_t i) {
  float f;
  std::memcpy(&f, &t.data[i * 4], 4);
  return f;
}

static void test_npy(void** state) {
  (void)state;
  const auto six = floats({1, 2, 3, 4, 5, 6});
  Tensor t = parse_npy(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", six).data(),
                       npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", six).size(), "a", "t");
  CHECK(t.dtype == DType::F32);
  CHECK(t.shape == (std::vector<int64_t>{2, 3}));
  CHECK(f32_at(t, 5) == 6.0f && f32_at(t, 1) == 2.0f);
  // Fortran order: the same 2x3 matrix [[1,2,3],[4,5,6]] stored column by column.
  const auto fimg = npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", floats({1, 4, 2, 5, 3, 6}));
  Tensor f = parse_npy(fimg.data(), fimg.size(), "f", "t");
  for (size_t i = 0; i < 6; ++i) CHECK(f32_at(f, i) == static_cast<float>(i + 1));
  // 3-D Fortran: element (i,j,k) of shape (2,2,2) at Fortran offset i + 2j + 4k holds 100i+10j+k.
  std::vector<float> fort(8);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      for (int k = 0; k < 2; ++k) fort[i + 2 * j + 4 * k] = 100.0f * i + 10.0f * j + k;
  std::vector<uint8_t> fb(32);
  std::memcpy(fb.data(), fort.data(), 32);
  const auto f3 = npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2, 2)}", fb);
  Tensor t3 = parse_npy(f3.data(), f3.size(), "f3", "t");
  CHECK(f32_at(t3, 3) == 11.0f && f32_at(t3, 4) == 100.0f && f32_at(t3, 6) == 110.0f);
  // Scalars, int64, bool, 1-byte dtypes with any byte order mark.
  std::vector<uint8_t> i64(8);
  int64_t v = -5;
  std::memcpy(i64.data(), &v, 8);
  const auto s = npy("{'descr': '<i8', 'fortran_order': False, 'shape': (), }", i64);
  Tensor ts = parse_npy(s.data(), s.size(), "s", "t");
  CHECK(ts.shape.empty() && ts.dtype == DType::I64 && ts.count() == 1);
  const auto b = npy("{\"descr\": \"|b1\", \"fortran_order\": False, \"shape\": (3,)}", {1, 0, 1});
  CHECK(parse_npy(b.data(), b.size(), "b", "t").dtype == DType::Bool);

  auto bad = [&](const char* what, const std::vector<uint8_t>& img, const std::string& needle) {
    expect_error(what, [&] { parse_npy(img.data(), img.size(), "x", "file.npy"); }, needle);
  };
  bad("bad magic", bytes("\x93NUMPX\x01\x00\x10\x00{}"), "bad magic");
  bad("short", bytes("\x93NUM"), "truncated");
  {
    const auto whole = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", {});
    bad("truncated header", std::vector<uint8_t>(whole.begin(), whole.begin() + 30), "truncated .npy header");
  }
  bad("version", bytes(std::string("\x93NUMPY\x04\x00\x10\x00", 10) + std::string(16, ' ')), "unsupported .npy version");
  {
    std::string big = std::string("\x93NUMPY\x02\x00", 8) + std::string("\xff\xff\xff\x7f", 4);
    bad("huge header length", bytes(big), "above the limit");
  }
  bad("huge shape", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }", {}),
      "more than 2^48");
  bad("huge dim", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", {}),
      "dimension above 2^48");
  bad("shape larger than data", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000,), }", six),
      "truncated: shape 1000000000 of f32 needs 4000000000 data bytes");
  bad("trailing", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", six), "unexpected bytes");
  bad("dtype", npy("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", six), "unsupported dtype '<c8'");
  bad("big endian", npy("{'descr': '>f4', 'fortran_order': False, 'shape': (6,), }", six), "big-endian");
  bad("object", npy("{'descr': '|O', 'fortran_order': False, 'shape': (6,), }", six), "unsupported dtype");
  bad("structured", npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }", six), "structured");
  bad("negative", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-6,), }", six), "non-negative");
  bad("missing", npy("{'descr': '<f4', 'shape': (6,), }", six), "missing");
  bad("extra key", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': 1}", six), "unexpected key");
  bad("dup key", npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (6,)}", six), "duplicate");
  bad("rank 9", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,6), }", six), "more than 8");
  bad("not a dict", npy("['descr']", six), "expected '{'");
  bad("garbage after", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,)} x", six), "trailing characters");
  bad("NUL", npy(std::string("{'descr': '<f4',\0 'fortran_order': False, 'shape': (6,)}", 52), six), "NUL");

  // Writer: header is 64-byte aligned, ends with '\n', and reads back.
  for (const auto& shape : {std::vector<int64_t>{}, std::vector<int64_t>{7}, std::vector<int64_t>{2, 3, 4}}) {
    const std::string h = npy_header(DType::I16, shape);
    CHECK(h.size() % 64 == 0 && h.back() == '\n');
    uint64_t n = 1;
    for (int64_t d : shape) n *= static_cast<uint64_t>(d);
    std::vector<uint8_t> img = bytes(h);
    img.resize(img.size() + n * 2, 0x11);
    Tensor r = parse_npy(img.data(), img.size(), "r", "t");
    CHECK(r.shape == shape && r.dtype == DType::I16 && r.data.size() == n * 2);
  }
  CHECK(npy_header(DType::F32, {5}).find("'shape': (5,)") != std::string::npos);
  CHECK(npy_header(DType::U8, {2, 3}).find("'descr': '|u1'") != std::string::npos);
}

// A safetensors image: u64 length, the JSON text, then `data`.
static std::vector<uint8_t> st(const std::string& json, const std::vector<uint8_t>& data) {
  // Built as a string first: GCC 12 warns (-Warray-bounds, a false positive) on inserting the
  // JSON into an 8-byte vector.
  std::string head(8, '\0');
  const uint64_t n = json.size();
  std::memcpy(&head[0], &n, 8);
  std::vector<uint8_t> v = bytes(head + json);
  v.insert(v.end(), data.begin(), data.end());
  return v;
}

static void test_safetensors(void** state) {
  (void)state;
  const auto data = floats({1, 2, 3, 4, 5, 6});  // 24 bytes
  const std::string ok =
      R"({"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]},)"
      R"("a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"__metadata__":{"format":"pt"}})";
  auto img = st(ok, data);
  SafetensorsFile f = parse_safetensors(img.data(), img.size(), "m.safetensors");
  CHECK(f.tensors.size() == 2);
  CHECK(f.tensors[0].name == "a" && f.tensors[0].shape == (std::vector<int64_t>{2, 2}));
  CHECK(f.tensors[1].name == "b" && f32_at(f.tensors[1], 0) == 5.0f && f32_at(f.tensors[1], 1) == 6.0f);
  CHECK(f.metadata.at("format") == "pt");
  // Header padded with spaces (allowed), BOOL / I64 / BF16 dtypes, empty tensor.
  auto img2 = st(R"({"x":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]},)"
                 R"("e":{"dtype":"I64","shape":[0,5],"data_offsets":[3,3]},)"
                 R"("h":{"dtype":"BF16","shape":[],"data_offsets":[3,5]}}   )",
                 {1, 0, 1, 0x80, 0x3f});
  SafetensorsFile f2 = parse_safetensors(img2.data(), img2.size(), "t");
  CHECK(f2.tensors.size() == 3);

  auto bad = [&](const char* what, const std::vector<uint8_t>& im, const std::string& needle) {
    expect_error(what, [&] { parse_safetensors(im.data(), im.size(), "m.safetensors"); }, needle);
  };
  bad("short", {1, 2, 3}, "truncated safetensors file");
  {
    std::vector<uint8_t> v(16, 0);
    uint64_t n = 200000000;
    std::memcpy(v.data(), &n, 8);
    bad("header over 100 MB", v, "above the limit of 100 MB");
    n = 1000;
    std::memcpy(v.data(), &n, 8);
    bad("header beyond file", v, "exceeds the file");
  }
  {
    auto t = img;
    t.resize(t.size() - 4);
    bad("truncated data", t, "outside the data region");
  }
  bad("overlap", st(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})", data),
      "overlap");
  bad("gap", st(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]}})", data),
      "unused bytes before tensor 'b'");
  bad("unused tail", st(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", data), "unused bytes after");
  bad("size mismatch", st(R"({"a":{"dtype":"F32","shape":[5],"data_offsets":[0,24]}})", data),
      "tensor 'a': shape 5 of F32 needs 20 bytes, data_offsets give 24");
  bad("reversed", st(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[24,0]}})", data), "end before they begin");
  bad("out of range", st(R"({"a":{"dtype":"F32","shape":[6],"data_offsets":[0,18446744073709551615]}})", data),
      "outside the data region");
  bad("dtype", st(R"({"a":{"dtype":"C64","shape":[3],"data_offsets":[0,24]}})", data), "unsupported dtype 'C64'");
  bad("negative dim", st(R"({"a":{"dtype":"F32","shape":[-6],"data_offsets":[0,24]}})", data), "non-negative");
  bad("float dim", st(R"({"a":{"dtype":"F32","shape":[6.0],"data_offsets":[0,24]}})", data), "non-negative integer");
  bad("huge shape", st(R"({"a":{"dtype":"F32","shape":[1099511627776,1099511627776],"data_offsets":[0,24]}})", data),
      "more than 2^48");
  bad("duplicate", st(R"({"a":{"dtype":"F32","shape":[6],"data_offsets":[0,24]},"a":{"dtype":"F32","shape":[6],"data_offsets":[0,24]}})", data),
      "names 'a' twice");
  bad("json", st(R"({"a":{"dtype":"F32",)", data), "not valid JSON");
  bad("not object", st(R"([1,2])", data), "not a JSON object");
  bad("extra field", st(R"({"a":{"dtype":"F32","shape":[6],"data_offsets":[0,24],"x":1}})", data), "unexpected field");
  bad("missing field", st(R"({"a":{"dtype":"F32","shape":[6]}})", data), "needs 'dtype', 'shape' and 'data_offsets'");
  bad("offsets arity", st(R"({"a":{"dtype":"F32","shape":[6],"data_offsets":[0]}})", data), "[begin, end]");
  bad("metadata type", st(R"({"__metadata__":{"k":1},"a":{"dtype":"F32","shape":[6],"data_offsets":[0,24]}})", data),
      "not a string");
}

static std::string temp_dir() {
  char tmpl[] = "/tmp/qk_cli_test_XXXXXX";
  char* d = mkdtemp(tmpl);
  if (!d) {
    std::perror("mkdtemp");
    std::exit(2);
  }
  return d;
}

static std::string g_dir;  // per-run temporary folder (group setup/teardown)

static void test_npz(void** state) {
  (void)state;
  const std::string& dir = g_dir;
  for (bool deflate : {false, true}) {
    const std::string path = dir + (deflate ? "/d.npz" : "/s.npz");
    std::vector<NpzEntry> entries;
    NpzEntry a{"conv.weight", bytes(npy_header(DType::F32, {2, 3}))};
    const auto six = floats({1, 2, 3, 4, 5, 6});
    a.bytes.insert(a.bytes.end(), six.begin(), six.end());
    NpzEntry b{"n", bytes(npy_header(DType::I64, {}))};
    b.bytes.resize(b.bytes.size() + 8, 0);
    b.bytes[b.bytes.size() - 8] = 42;
    entries.push_back(a);
    entries.push_back(b);
    write_npz(path, entries, deflate);
    std::vector<Tensor> ts = read_npz(path, nullptr, true);
    CHECK(ts.size() == 2);
    CHECK(ts[0].name == "conv.weight" && ts[0].shape == (std::vector<int64_t>{2, 3}) && f32_at(ts[0], 4) == 5.0f);
    CHECK(ts[1].name == "n" && ts[1].dtype == DType::I64 && ts[1].data[0] == 42);
    // Deterministic: writing again gives the same bytes.
    write_npz(path + "2", entries, deflate);
    MappedFile m1(path), m2(path + "2");
    CHECK(m1.size() == m2.size() && std::memcmp(m1.data(), m2.data(), m1.size()) == 0);
    // Truncated archives are refused with a message naming the file.
    {
      std::vector<uint8_t> half(m1.data(), m1.data() + m1.size() / 2);
      write_file_atomic(dir + "/half.npz", half.data(), half.size());
      expect_error("truncated npz", [&] { read_npz(dir + "/half.npz", nullptr, true); }, dir + "/half.npz: not a valid .npz");
    }
    // A flipped data byte fails the CRC check (stored entries) or the inflate (deflated ones).
    {
      std::vector<uint8_t> flip(m1.data(), m1.data() + m1.size());
      const size_t at = deflate ? 60 : 30 + 15 + 128 + 10;  // inside the first entry's data
      flip[at] ^= 0x55;
      write_file_atomic(dir + "/flip.npz", flip.data(), flip.size());
      expect_error("flipped npz", [&] { read_npz(dir + "/flip.npz", nullptr, true); }, "flip.npz: entry");
    }
  }
  // An entry whose .npy header promises more data than the entry holds.
  {
    std::vector<NpzEntry> e{{"x", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,), }", floats({1, 2}))}};
    write_npz(dir + "/lie.npz", e, false);
    expect_error("npz header lies", [&] { read_npz(dir + "/lie.npz", nullptr, true); },
                 "entry 'x.npy': shape 1000000000000 of f32 needs 4000000000000 data bytes, the entry holds 8");
  }
  {
    std::vector<NpzEntry> e{{"x", bytes("not numpy at all")}};
    write_npz(dir + "/junk.npz", e, true);
    expect_error("npz junk entry", [&] { read_npz(dir + "/junk.npz", nullptr, true); }, "entry 'x.npy': not a .npy file");
  }
  // No entries at all: a valid, empty archive.
  write_npz(dir + "/empty.npz", {}, false);
  CHECK(read_npz(dir + "/empty.npz", nullptr, true).empty());
  expect_error("not a zip", [&] {
    write_file_atomic(dir + "/text.npz", "hello world, this is no zip", 27);
    read_npz(dir + "/text.npz", nullptr, true);
  }, "not a valid .npz");
  expect_error("missing file", [&] { read_npz(dir + "/nope.npz", nullptr, true); }, "nope.npz: cannot open");
}

static void test_glob_args(void** state) {
  (void)state;
  CHECK(glob_match("conv*", "conv1.weight"));
  CHECK(glob_match("*.weight", "layer.0/fc.weight"));
  CHECK(!glob_match("bn?.bias", "bn10.bias"));
  Selection s{{"conv*", "fc*"}, {"*.bias"}};
  CHECK(s.selected("conv1.weight") && !s.selected("conv1.bias") && !s.selected("bn1.weight"));
  CHECK(Selection{}.selected("anything"));

  std::vector<OptSpec> spec{{"output", 'o', true}, {"codec", 0, true}, {"fast", 0, false}};
  Args a = parse_args({"in.npz", "-oout.qkw", "--codec=int4", "--fast", "--", "-weird"}, spec);
  CHECK(a.positional.size() == 2 && a.positional[1] == "-weird");
  CHECK(a.get("output") == "out.qkw" && a.get("codec") == "int4" && a.has("fast"));
  Args b = parse_args({"-o", "x", "--codec", "a", "--codec", "b"}, spec);
  CHECK(b.get("codec") == "b" && b.all("codec").size() == 2);
  expect_error("unknown option", [&] { parse_args({"--frobnicate"}, spec); }, "unknown option '--frobnicate'");
  expect_error("missing value", [&] { parse_args({"--codec"}, spec); }, "needs a value");
  expect_error("flag with value", [&] { parse_args({"--fast=1"}, spec); }, "takes no value");
  expect_error("int", [&] { parse_int("--level", "3x", 0, 22); }, "not an integer");
  expect_error("range", [&] { parse_int("--level", "23", 0, 22); }, "out of range");
  CHECK(parse_double("--target-sqnr", "40.5", 0, 100) == 40.5);
  CHECK(escape_key_part("a b%c") == "a%20b%25c");
  CHECK(shape_str({}) == "scalar" && shape_str({2, 3}) == "2x3");
  expect_error("count", [&] { checked_count({-1}, 4, "ctx"); }, "negative dimension");
}

static int make_dir(void** state) {
  (void)state;
  g_dir = temp_dir();
  return 0;
}

static int remove_dir(void** state) {
  (void)state;
  const std::string cmd = "rm -rf '" + g_dir + "'";
  return std::system(cmd.c_str()) == 0 ? 0 : -1;
}

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_npy),
      cmocka_unit_test(test_safetensors),
      cmocka_unit_test(test_npz),
      cmocka_unit_test(test_glob_args),
  };
  return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
