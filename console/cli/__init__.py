"""The `trueup` command line: main.py (parser, dispatch, exit codes), one module per noun, output.py."""
