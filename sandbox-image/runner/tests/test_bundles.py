import base64
import json
import unittest

from runner.bundles import ALLOWED_MIMES, cap_bundle, clean_bundle
from runner.tracebacks import clean_lines, safe_str

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00pixels"
JPEG = b"\xff\xd8\xff" + b"\x00pixels"


class CleanBundleTest(unittest.TestCase):
    def test_keeps_known_mime_types_only(self):
        bundle = clean_bundle({
            "text/plain": "1",
            "text/html": "<b>1</b>",
            "text/latex": "$1$",
            "application/javascript": "alert(1)",
            "application/pdf": "JVBERi0=",
        })
        self.assertEqual(bundle, {"text/plain": "1", "text/html": "<b>1</b>", "text/latex": "$1$"})
        self.assertTrue(set(bundle) <= set(ALLOWED_MIMES))

    def test_image_bytes_become_base64(self):
        bundle = clean_bundle({"image/png": PNG})
        self.assertEqual(base64.b64decode(bundle["image/png"]), PNG)

    def test_base64_given_as_bytes_or_text_is_not_encoded_twice(self):
        encoded = base64.b64encode(PNG)
        self.assertEqual(clean_bundle({"image/png": encoded})["image/png"], encoded.decode())
        wrapped = encoded.decode()[:8] + "\n" + encoded.decode()[8:]
        self.assertEqual(clean_bundle({"image/png": wrapped})["image/png"], encoded.decode())

    def test_png_wins_over_jpeg(self):
        bundle = clean_bundle({"image/png": PNG, "image/jpeg": JPEG})
        self.assertEqual(set(bundle), {"image/png"})
        self.assertEqual(base64.b64decode(clean_bundle({"image/jpeg": JPEG})["image/jpeg"]), JPEG)

    def test_json_values_become_json_text(self):
        bundle = clean_bundle({"application/json": {"a": [1, 2]}})
        self.assertEqual(json.loads(bundle["application/json"]), {"a": [1, 2]})
        as_text = clean_bundle({"application/json": '{"b":1}'})
        self.assertEqual(as_text["application/json"], '{"b":1}')
        with_nan = clean_bundle({"application/json": {"x": float("nan")}})
        self.assertEqual(json.loads(with_nan["application/json"]), {"x": None})

    def test_every_value_is_a_string(self):
        bundle = clean_bundle({"text/plain": 42, "text/html": b"caf\xc3\xa9 \xff"})
        self.assertEqual(bundle, {"text/plain": "42", "text/html": "caf\u00e9 \ufffd"})

    def test_anything_but_a_dict_is_an_empty_bundle(self):
        self.assertEqual(clean_bundle(["text/plain"]), {})
        self.assertEqual(clean_bundle({"text/plain": None}), {})


class CapBundleTest(unittest.TestCase):
    def test_small_bundles_pass(self):
        bundle = {"text/plain": "x" * 10, "text/html": "y" * 10}
        self.assertEqual(cap_bundle(bundle, 20), (bundle, 0))

    def test_a_giant_bundle_keeps_a_short_text_form(self):
        bundle = {"text/plain": "t" * 10_000, "image/png": "p" * 90_000}
        capped, dropped = cap_bundle(bundle, 50_000)
        self.assertEqual(capped, {"text/plain": "t" * 4096})
        self.assertEqual(dropped, 100_000 - 4096)

    def test_without_text_it_says_so(self):
        capped, dropped = cap_bundle({"image/png": "p" * 100}, 10)
        self.assertEqual(capped, {"text/plain": "<output too large to show>"})
        self.assertEqual(dropped, 100 - len("<output too large to show>"))


class TracebackTest(unittest.TestCase):
    def test_colour_codes_are_removed_and_entries_split_into_lines(self):
        lines = clean_lines(["\x1b[0;31mValueError\x1b[0m: bad\nline two", "\x1b]0;title\x07end"])
        self.assertEqual(lines, ["ValueError: bad", "line two", "end"])

    def test_long_tracebacks_keep_head_and_tail(self):
        lines = clean_lines(["h" * 600, "t" * 600], limit=1000)
        text = "\n".join(lines)
        self.assertIn("[... traceback shortened ...]", text)
        self.assertTrue(text.startswith("h" * 500) and text.endswith("t" * 500))

    def test_safe_str_survives_a_broken_str(self):
        class Broken(Exception):
            def __str__(self):
                raise RuntimeError("no")

        self.assertEqual(safe_str(Broken()), "<unprintable Broken>")
        self.assertEqual(safe_str(ValueError("v")), "v")


if __name__ == "__main__":
    unittest.main()
