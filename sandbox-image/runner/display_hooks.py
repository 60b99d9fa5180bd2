"""IPython's display hook and publisher, sending to `Outputs` instead of printing. Built by a
function because importing IPython is part of the boot (data_stack.import_ipython_core)."""


LAST_ONLY = ("last_expr", "last_expr_or_assign")


def hook_classes(outputs):
    """(display hook class, display publisher class) bound to `outputs`."""
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher

    class ProtocolDisplayHook(DisplayHook):
        """The last expression of a cell becomes an `execute_result` event."""

        def write_output_prompt(self):
            pass  # no "Out[n]:" on stdout

        def write_format_data(self, format_dict, md_dict=None):
            # With IPython's default interactivity only a cell's last statement is shown, and
            # nothing of the cell runs after it; with "all" more statements may follow.
            ends_cell = getattr(self.shell, "ast_node_interactivity", None) in LAST_ONLY
            outputs.display("execute_result", format_dict, md_dict, ends_cell)

        def finish_displayhook(self):
            pass

    class ProtocolDisplayPublisher(DisplayPublisher):
        """`display()` calls become `display_data` events."""

        def publish(self, data, metadata=None, *args, **kwargs):
            outputs.display("display_data", data, metadata)

        def clear_output(self, wait=False):
            pass  # nothing to clear in a chat thread

    return ProtocolDisplayHook, ProtocolDisplayPublisher
