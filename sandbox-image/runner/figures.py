"""Matplotlib figures as PNG `display` events: at plt.show(), fig.show() and the end of
every cell, once a cell has imported matplotlib."""

import io
import sys

from .after_import import after_import


def figure_png(figure):
    """PNG bytes of a figure, or None for an empty one (as Jupyter skips those)."""
    if not figure.axes and not figure.lines and not figure.images and not figure.texts:
        return None
    buffer = io.BytesIO()
    # The figure's own dpi (default 100), within bounds: a dpi=600 figure would make a
    # 4000-pixel PNG nobody can read in a chat message.
    dpi = min(max(float(figure.dpi or 100), 50.0), 200.0)
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


class Figures:
    def __init__(self, outputs):
        self.outputs = outputs

    def show(self, figure):
        png = figure_png(figure)
        if png is not None:
            self.outputs.display("display_data", {"image/png": png, "text/plain": repr(figure)}, {})

    def flush(self, *_args, **_kwargs):
        """plt.show() and the end of every cell: each open figure becomes an image event and
        is closed, so the next cell does not show it again."""
        plt = sys.modules.get("matplotlib.pyplot")
        if plt is None:
            return  # no cell imported pyplot yet, so no figure is open
        try:
            for number in plt.get_fignums():
                try:
                    self.show(plt.figure(number))
                except KeyboardInterrupt:
                    raise
                except Exception as error:  # one broken figure must not hide the others
                    print("could not render figure %s: %s" % (number, error), file=sys.stderr)
        finally:
            plt.close("all")

    def install(self):
        """Replaces plt.show and Figure.show (which on Agg only warns) as soon as a cell
        imports them (after_import.py: matplotlib is not imported at start-up)."""
        figures = self

        # Plain functions, not bound methods: matplotlib sets attributes on plt.show (its
        # __signature__), which a method object refuses.
        def show(*args, **kwargs):
            """plt.show(): every open figure becomes an image event and is closed."""
            figures.flush(*args, **kwargs)

        def figure_show(self, *_args, **_kwargs):
            """Figure.show(): shows that one figure and closes it."""
            figures.show(self)
            plt = sys.modules.get("matplotlib.pyplot")
            if plt is not None:
                plt.close(self)

        def patch_pyplot(plt):
            plt.show = show

        def patch_figure(module):
            module.Figure.show = figure_show

        after_import("matplotlib.figure", patch_figure)
        after_import("matplotlib.pyplot", patch_pyplot)
        return self
