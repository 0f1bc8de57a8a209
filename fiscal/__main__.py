import os
import sys

from .cli import READ_ONLY_COMMANDS, main

try:
    code = main()
    sys.stdout.flush()
except BrokenPipeError:  # the reader has gone (`| head`): no traceback, as Python's docs advise
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    code = 1
if sys.argv[1:2] and sys.argv[1] in READ_ONLY_COMMANDS:
    # Nothing of a command that only reads is left to finish once its output is flushed: skip
    # the interpreter's teardown (unloading DuckDB and every module, about 0.07 s of `metrics`).
    sys.stderr.flush()
    os._exit(code)
sys.exit(code)
