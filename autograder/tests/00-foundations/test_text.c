/* UTF-8 text: decoding by hand-worked values, the bundled Austen novels with
 * their known sizes, and every kind of invalid sequence refused with its byte
 * offset, line and bytes.
 *
 * Known values were computed independently with python3: len(raw bytes),
 * len(bytes.decode('utf-8')) for code points, bytes.count(b'\n') for lines
 * (both files end in '\n'). Tests run from the repository root. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "nn_text.h"

/* nn_text_parse on an exact-size copy, so ASan catches a read past len. */
static nn_status parse(const char *bytes, size_t len, nn_text *t, nn_error *err) {
  uint8_t *exact = malloc(len ? len : 1);
  memcpy(exact, bytes, len);
  nn_status st = nn_text_parse(exact, len, "t.txt", t, err);
  free(exact);
  return st;
}

static void expect_invalid(const char *bytes, size_t len, const char *where, const char *shown, const char *why) {
  nn_text t;
  nn_error err = {0};
  nn_status st = parse(bytes, len, &t, &err);
  cr_assert_eq(st, NN_ERR_FORMAT, "%s: got %s, expected NN_ERR_FORMAT", where, nn_status_name(st));
  cr_assert(strstr(err.msg, where), "the message must say \"%s\": %s", where, err.msg);
  cr_assert(strstr(err.msg, shown), "the message must show the bytes \"%s\": %s", shown, err.msg);
  cr_assert(strstr(err.msg, why), "the message must say why (\"%s\"): %s", why, err.msg);
  cr_assert(t.bytes == NULL && t.len == 0 && t.codepoints == 0, "after a failure the text must be empty");
}

Test(text, utf8_decode_known_values) {
  struct { const char *s; int len; uint32_t cp; } cases[] = {
      {"A", 1, 0x41}, {"\x7f", 1, 0x7f}, {"\xc2\x80", 2, 0x80}, {"\xc2\xa3", 2, 0xa3} /* £ */,
      {"\xdf\xbf", 2, 0x7ff}, {"\xe0\xa0\x80", 3, 0x800}, {"\xe2\x82\xac", 3, 0x20ac} /* € */,
      {"\xed\x9f\xbf", 3, 0xd7ff}, {"\xee\x80\x80", 3, 0xe000}, {"\xef\xbf\xbf", 3, 0xffff},
      {"\xf0\x90\x80\x80", 4, 0x10000}, {"\xf0\x9f\x98\x80", 4, 0x1f600} /* 😀 */, {"\xf4\x8f\xbf\xbf", 4, 0x10ffff},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint32_t cp = 0;
    int n = nn_utf8_decode((const uint8_t *)cases[i].s, strlen(cases[i].s), &cp);
    cr_assert(n == cases[i].len && cp == cases[i].cp, "decoding case %zu: %d bytes, U+%04X; expected %d bytes, U+%04X",
              i, n, cp, cases[i].len, cases[i].cp);
  }
}

Test(text, utf8_decode_refuses_invalid_sequences) {
  struct { const char *s; size_t len; const char *what; } bad[] = {
      {"\x80", 1, "lone continuation byte"},  {"\xc0\xaf", 2, "overlong '/'"},
      {"\xc1\xbf", 2, "overlong"},            {"\xe0\x80\xaf", 3, "overlong in 3 bytes"},
      {"\xf0\x80\x80\xaf", 4, "overlong in 4"}, {"\xed\xa0\x80", 3, "surrogate U+D800"},
      {"\xed\xbf\xbf", 3, "surrogate U+DFFF"}, {"\xf4\x90\x80\x80", 4, "U+110000"},
      {"\xf5\x80\x80\x80", 4, "lead 0xf5"},     {"\xff", 1, "0xff"},
      {"\xe9\x20", 2, "Latin-1 e-acute"},       {"\xe2\x82", 2, "cut off"},
      {"\xe2\x82\xac", 2, "euro cut by len"},   {"", 0, "no bytes"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint32_t cp = 12345;
    int n = nn_utf8_decode((const uint8_t *)bad[i].s, bad[i].len, &cp);
    cr_assert(n == 0, "%s: decoded as %d bytes (U+%04X), expected 0 (invalid)", bad[i].what, n, cp);
  }
}

Test(text, emma_is_ascii_with_known_sizes) {
  nn_text t;
  nn_error err = {0};
  nn_status st = nn_text_load("datasets/text/austen/emma.txt.gz", &t, &err);
  cr_assert_eq(st, NN_OK, "%s: %s", nn_status_name(st), err.msg);
  cr_assert_eq(t.len, 883028, "emma: %zu bytes, expected 883028", t.len);
  cr_assert_eq(t.codepoints, 883028, "emma: %zu code points, expected 883028 (it is all ASCII)", t.codepoints);
  cr_assert_eq(t.lines, 16235, "emma: %zu lines, expected 16235", t.lines);
  cr_assert_eq(strlen(t.bytes), t.len, "bytes must be '\\0'-terminated with no NUL inside");
  cr_assert_eq(strncmp(t.bytes, "EMMA", 4), 0);
  nn_text_free(&t);
  cr_assert_null(t.bytes);
}

Test(text, mansfield_park_has_one_pound_sign) {
  nn_text t;
  nn_error err = {0};
  nn_status st = nn_text_load("datasets/text/austen/mansfield_park.txt.gz", &t, &err);
  cr_assert_eq(st, NN_OK, "%s: %s", nn_status_name(st), err.msg);
  cr_assert_eq(t.len, 883280, "mansfield_park: %zu bytes, expected 883280", t.len);
  cr_assert_eq(t.codepoints, 883279, "mansfield_park: %zu code points, expected 883279 (one 2-byte '£')", t.codepoints);
  cr_assert_eq(t.lines, 15349, "mansfield_park: %zu lines, expected 15349", t.lines);
  cr_assert_eq(memcmp(t.bytes + 875345, "\xc2\xa3", 2), 0, "the '£' must be at byte 875345");
  nn_text_free(&t);
}

Test(text, counts_of_small_texts_and_the_bom_is_stripped) {
  nn_text t;
  nn_error err = {0};
  const char s[] = "\xef\xbb\xbf" "caf\xc3\xa9 \xe2\x82\xac\n\xf0\x9f\x98\x80";
  cr_assert_eq(parse(s, sizeof s - 1, &t, &err), NN_OK, "%s", err.msg);
  cr_assert_eq(t.len, sizeof s - 1 - 3, "the 3-byte BOM must be stripped: len %zu", t.len);
  cr_assert_eq(memcmp(t.bytes, "caf", 3), 0, "the text must start after the BOM");
  cr_assert_eq(t.codepoints, 8, "'café €\\n😀': %zu code points, expected 8", t.codepoints);
  cr_assert_eq(t.lines, 2, "a last line without '\\n' counts: %zu lines, expected 2", t.lines);
  cr_assert_eq(t.bytes[t.len], '\0');
  nn_text_free(&t);
  cr_assert_eq(parse("", 0, &t, &err), NN_OK, "%s", err.msg);
  cr_assert(t.len == 0 && t.codepoints == 0 && t.lines == 0 && t.bytes && t.bytes[0] == '\0');
  nn_text_free(&t);
  cr_assert_eq(parse("a\n\n", 3, &t, &err), NN_OK, "%s", err.msg);
  cr_assert_eq(t.lines, 2, "\"a\\n\\n\" has %zu lines, expected 2", t.lines);
  nn_text_free(&t);
}

Test(text, invalid_bytes_are_located_by_offset_and_line) {
  /* Latin-1 "café" in line 3: 0xe9 then a space */
  expect_invalid("one\ntwo\ncaf\xe9 au lait\n", 21, "t.txt: invalid UTF-8 at byte 11 (line 3)", "0xe9 0x20",
                 "iconv -f latin1 -t utf-8 t.txt");
  expect_invalid("ab\x80", 3, "at byte 2 (line 1)", "0x80", "continuation byte");
  expect_invalid("x\xc0\xaf", 3, "at byte 1 (line 1)", "0xc0 0xaf", "overlong");
  expect_invalid("\n\xed\xa0\x80", 4, "at byte 1 (line 2)", "0xed 0xa0 0x80", "surrogate");
  expect_invalid("\xf4\x90\x80\x80", 4, "at byte 0 (line 1)", "0xf4 0x90 0x80 0x80", "above U+10FFFF");
  expect_invalid("ok \xe2\x82", 5, "at byte 3 (line 1)", "0xe2 0x82", "cut off by the end");
  expect_invalid("\xef\xbb\xbf\xff", 4, "at byte 3 (line 1)", "0xff", "never occur");
}

Test(text, utf16_and_nul_bytes_are_refused_with_a_hint) {
  expect_invalid("\xff\xfeh\0i\0", 6, "t.txt: starts with 0xff 0xfe", "UTF-16", "iconv -f utf-16");
  expect_invalid("ab\ncd\0e", 7, "a NUL byte at byte 5 (line 2)", "binary", "UTF-16");
}

Test(text, a_missing_file_is_an_io_error_naming_the_path) {
  nn_text t;
  nn_error err = {0};
  cr_assert_eq(nn_text_load("/nonexistent/emma.txt", &t, &err), NN_ERR_IO);
  cr_assert(strstr(err.msg, "/nonexistent/emma.txt"), "message was: %s", err.msg);
  cr_assert_null(t.bytes);
}
