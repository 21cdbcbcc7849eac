"""Moved to :mod:`tools.runner`: ``python -m utils.runner`` still runs it (temporary, until every command names tools)."""

import runpy

if __name__ == "__main__":
    runpy.run_module("tools.runner", run_name="__main__", alter_sys=True)
