"""Moved to :mod:`tools.nbcheck`: ``python -m utils.nbcheck`` still runs it (temporary, until every command names tools)."""

import runpy

if __name__ == "__main__":
    runpy.run_module("tools.nbcheck", run_name="__main__", alter_sys=True)
