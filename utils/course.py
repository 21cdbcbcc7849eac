"""Moved to :mod:`tools.course`: ``python -m utils.course`` still runs it (temporary, until every command names tools)."""

import runpy

if __name__ == "__main__":
    runpy.run_module("tools.course", run_name="__main__", alter_sys=True)
