import os
import sys

from .cli import READ_ONLY_COMMANDS, main

code = main()
if sys.argv[1:2] and sys.argv[1] in READ_ONLY_COMMANDS:
    # Nothing of a command that only reads is left to finish once its output is flushed: skip
    # the interpreter's teardown (unloading DuckDB and every module, about 0.07 s of `metrics`).
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # the reader has gone (`| head`): there is no one left to tell
        pass
    os._exit(code)
sys.exit(code)
