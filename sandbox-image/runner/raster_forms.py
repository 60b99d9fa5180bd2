"""PNG forms of displays chat platforms cannot show, made here, inside the sandbox, so the host
never parses untrusted SVG or LaTeX: an SVG rasterised by cairosvg in its safe mode (no
external files or URLs, no XML entities) and LaTeX drawn by matplotlib's mathtext (a subset
of TeX; what it cannot draw keeps its text form). Both libraries are imported at the first
such display, never at start-up, so an idle kernel does not carry them."""

import base64
import io
import re

from .diagnostics import diag

# A chat message shows an image a few hundred pixels wide; this keeps detail and bounds memory.
MAX_SIDE_PX = 1600
# An SVG with no size of its own (percentages, none at all) is drawn this wide.
DEFAULT_SIDE_PX = 800
MAX_SVG_CHARS = 4 * 1024 * 1024
MAX_LATEX_CHARS = 2000
LATEX_DPI = 150

IMAGE_MIMES = ("image/png", "image/jpeg")


def with_raster(bundle):
    """The bundle, with an `image/png` drawn from its SVG or LaTeX form when it has no image."""
    if any(mime in bundle for mime in IMAGE_MIMES):
        return bundle
    png = None
    if "image/svg+xml" in bundle:
        png = svg_png(bundle["image/svg+xml"])
    elif "text/latex" in bundle:
        png = latex_png(bundle["text/latex"])
    if png is None:
        return bundle
    return {**bundle, "image/png": base64.b64encode(png).decode("ascii")}


def svg_png(svg_text):
    if len(svg_text) > MAX_SVG_CHARS:
        return None
    try:
        import cairosvg
        from cairosvg.helpers import node_format
        from cairosvg.parser import Tree

        data = svg_text.encode("utf-8")
        # unsafe=False: cairosvg then refuses entities and external resources (safe_fetch
        # reads data: URLs only); there is no network here either way.
        width, height, _ = node_format(_Units, Tree(bytestring=data, unsafe=False), reference=False)
        width, height = _bounded(width, height)
        return cairosvg.svg2png(bytestring=data, unsafe=False, output_width=width, output_height=height)
    except Exception as error:  # the SVG still goes out as text and as a file
        diag("SVG could not be rasterised: %r" % (error,))
        return None


class _Units:
    """What cairosvg's size helper reads from a surface to turn units into pixels."""

    dpi = 96
    font_size = 12
    context_width = None
    context_height = None


def _bounded(width, height):
    if not width or not height or width <= 0 or height <= 0:
        return DEFAULT_SIDE_PX, DEFAULT_SIDE_PX
    scale = min(1.0, MAX_SIDE_PX / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def latex_png(latex_text):
    expression = _mathtext(latex_text)
    if expression is None:
        return None
    try:
        from matplotlib import mathtext

        buffer = io.BytesIO()
        mathtext.math_to_image(expression, buffer, dpi=LATEX_DPI, format="png")
        return buffer.getvalue()
    except Exception as error:  # beyond mathtext's TeX subset: the text form stays
        diag("LaTeX could not be drawn: %r" % (error,))
        return None


def _mathtext(latex_text):
    """`$...$` for mathtext from IPython's forms ($x$, $$x$$, \\[x\\], $\\displaystyle x$);
    None for text that is not a single formula."""
    text = latex_text.strip()
    if len(text) > MAX_LATEX_CHARS:
        return None
    for opener, closer in (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$")):
        if text.startswith(opener) and text.endswith(closer) and len(text) > len(opener) + len(closer):
            body = text[len(opener) : -len(closer)].strip()
            break
    else:
        return None
    body = re.sub(r"\\displaystyle\s*", "", body)
    if body == "" or "$" in body:
        return None
    return "$%s$" % body
